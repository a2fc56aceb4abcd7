import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { getBrokerSchemes } from "@dq/core";
import type { ModuleSpec } from "./ipc.js";

// The package that registers each DQ_BROKER_URL scheme when imported.
const ADAPTERS: Record<string, string> = {
  redis: "@dq/broker-redis",
  rediss: "@dq/broker-redis",
  amqp: "@dq/broker-rabbitmq",
  amqps: "@dq/broker-rabbitmq",
};

/**
 * When `DQ_BROKER_URL` names a scheme no adapter registered yet, imports the adapter package for
 * it, looked up from the user's modules, then the working directory, then this package. Nothing
 * happens when the URL is unset or its adapter is not installed: `getBroker()` then says which
 * package to install.
 */
export async function loadBrokerAdapter(modules: readonly ModuleSpec[]): Promise<void> {
  const url = process.env.DQ_BROKER_URL;
  if (!url) return;
  let scheme: string;
  try {
    scheme = new URL(url).protocol.replace(/:$/, "").toLowerCase();
  } catch {
    return;
  }
  const adapter = ADAPTERS[scheme];
  if (!adapter || getBrokerSchemes().includes(scheme)) return;
  const adapterUrl = resolveInstalled(adapter, modules);
  if (adapterUrl) await import(adapterUrl);
}

/**
 * The `file:` URL of an optional package, looked up from the user's modules, then the working
 * directory, then this package; undefined when it is not installed.
 */
export function resolveInstalled(name: string, modules: readonly ModuleSpec[]): string | undefined {
  const bases = [...modules.map((spec) => path.dirname(fileURLToPath(spec.url))), process.cwd(), path.dirname(fileURLToPath(import.meta.url))];
  for (const base of bases) {
    try {
      return pathToFileURL(createRequire(path.join(base, "noop.js")).resolve(name)).href;
    } catch {
      continue;
    }
  }
  return undefined;
}
