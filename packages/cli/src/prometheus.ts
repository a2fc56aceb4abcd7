import type { Broker, Logger, Middleware } from "@dq/core";
import { resolveInstalled } from "./adapters.js";
import type { MetricsAddress, ModuleSpec } from "./ipc.js";

/**
 * Where the command was asked to serve metrics: the `--metrics` flag, else `DQ_METRICS_PORT`
 * (port only), else `DQ_PROMETHEUS=1`/`true`/`yes`/`on` (the defaults: `dramatiq_prom_host` or
 * 127.0.0.1, `dramatiq_prom_port` or 9191). Undefined when not asked: no metrics server.
 * @throws Error naming the variable when DQ_METRICS_PORT is not a port
 */
export function metricsAddress(
  flag: MetricsAddress | undefined,
  env: NodeJS.ProcessEnv = process.env,
): MetricsAddress | undefined {
  if (flag) return flag;
  const port = env.DQ_METRICS_PORT?.trim();
  if (port) {
    if (!/^\d+$/.test(port) || Number(port) > 65535)
      throw new Error(
        `DQ_METRICS_PORT=${JSON.stringify(env.DQ_METRICS_PORT)} is not a TCP port (0 to 65535)`,
      );
    return { port: Number(port) };
  }
  if (/^(1|true|yes|on)$/i.test(env.DQ_PROMETHEUS?.trim() ?? "")) return {};
  return undefined;
}

/**
 * Adds `@dq/prometheus`'s `Prometheus` middleware to the broker when metrics were asked for
 * (`address`), the package is installed (next to the user's modules, the working directory or
 * this package) and the broker has none yet. Its exposition server then runs as a fork of the
 * command, on 127.0.0.1 unless the address names another host.
 * @param logger - where a missing package is reported (one process is enough)
 * @returns whether it was added
 */
export async function addPrometheus(
  broker: Broker,
  modules: readonly ModuleSpec[],
  address: MetricsAddress | undefined,
  logger?: Logger,
): Promise<boolean> {
  if (!address) return false;
  const url = resolveInstalled("@dq/prometheus", modules);
  const { Prometheus } = url
    ? ((await import(url)) as {
        Prometheus?: new (options?: { httpHost?: string; httpPort?: number }) => Middleware;
      })
    : {};
  if (typeof Prometheus !== "function") {
    logger?.warn(
      "Metrics were asked for (--metrics, DQ_METRICS_PORT or DQ_PROMETHEUS), but @dq/prometheus is not installed: no metrics.",
    );
    return false;
  }
  if (
    broker.middleware.some(
      (middleware) =>
        middleware.constructor.name === "Prometheus" || middleware instanceof Prometheus,
    )
  )
    return false;
  broker.addMiddleware(new Prometheus({ httpHost: address.host, httpPort: address.port }));
  return true;
}
