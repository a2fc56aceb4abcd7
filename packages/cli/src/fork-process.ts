// The entry of a fork process: runs one function a middleware listed in `forks` (e.g. the
// Prometheus exposition server) under the supervisor. TERM/HUP or the supervisor's stop command
// stop it (exit 0); a second signal kills it (1).
import { pathToFileURL } from "node:url";
import { getLogger } from "@dq/core";
import { isSupervisorCommand, type ForkConfig } from "./ipc.js";
import { installLogging } from "./logging.js";
import { guardPipes } from "./pipes.js";

guardPipes();
const config = JSON.parse(process.argv[2] ?? "{}") as ForkConfig;
if (!config.skipLogging) installLogging();
const logger = getLogger(`dq.ForkProcess(${config.index})`);
let running: unknown;
let stopping = false;
let signals = 0;

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // A fork function may return something with close() (a server): close it before leaving.
  const close = (running as { close?: () => unknown } | undefined)?.close;
  if (typeof close === "function")
    await Promise.race([
      close.call(running),
      new Promise((resolve) => setTimeout(resolve, 5000).unref()),
    ]);
  logger.info(`Fork process ${config.index} stopped.`);
  process.exit(0);
}

const onStop = () => void stop().catch(() => process.exit(1));
const onSignal = () => (++signals > 1 ? process.exit(1) : onStop());
process.on("SIGINT", () => undefined);
process.on("SIGTERM", onSignal);
process.on("SIGHUP", onSignal);
process.on("disconnect", onStop);
process.on("message", (message) => {
  if (isSupervisorCommand(message) && message.type === "stop") onStop();
});

async function main(): Promise<void> {
  const { module, exportName } = config.fork;
  const url =
    /^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module)
      ? module
      : pathToFileURL(module).href;
  const namespace = (await import(url)) as Record<string, unknown>;
  const fn =
    namespace[exportName] ??
    (namespace.default as Record<string, unknown> | undefined)?.[exportName];
  if (typeof fn !== "function")
    throw new Error(`${module} does not export a function ${JSON.stringify(exportName)}`);
  logger.info(`Fork process ${config.index} running ${exportName} from ${module}.`);
  running = await (fn as () => unknown)();
  // Dramatiq uses the function's return value as the exit code; anything else keeps the process
  // alive for as long as what it started (a server) runs.
  if (typeof running === "number") process.exit(running);
}

main().catch((error: unknown) => {
  logger.error(`Fork process ${config.index} failed.`, error);
  process.exit(1);
});
