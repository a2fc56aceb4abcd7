import type { Broker, Middleware } from "@dq/core";
import { resolveInstalled } from "./adapters.js";
import type { ModuleSpec } from "./ipc.js";

/**
 * Adds `@dq/prometheus`'s `Prometheus` middleware to the broker when the package is installed
 * (next to the user's modules, the working directory or this package), the broker has none yet,
 * and `DQ_PROMETHEUS` is not `0`/`false`/`no`/`off`: Dramatiq's command line exports metrics the
 * same way when its Prometheus middleware is in use.
 * @returns whether it was added
 */
export async function addDefaultPrometheus(broker: Broker, modules: readonly ModuleSpec[]): Promise<boolean> {
  if (/^(0|false|no|off)$/i.test(process.env.DQ_PROMETHEUS?.trim() ?? "")) return false;
  const url = resolveInstalled("@dq/prometheus", modules);
  if (!url) return false;
  const { Prometheus } = (await import(url)) as { Prometheus?: new () => Middleware };
  if (typeof Prometheus !== "function") return false;
  if (broker.middleware.some((middleware) => middleware.constructor.name === "Prometheus" || middleware instanceof Prometheus)) return false;
  broker.addMiddleware(new Prometheus());
  return true;
}
