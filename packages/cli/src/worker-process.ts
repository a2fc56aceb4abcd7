// The entry of one worker process, forked by the supervisor: imports the user's modules, starts a
// Worker, reports boot and heartbeats over IPC, and stops gracefully on TERM/HUP.
import { ConnectionError, getBroker, getLogger, InvalidOptionError, isImplicitBroker, Worker, type Broker } from "@dq/core";
import type { WorkerConfig, WorkerReport } from "./ipc.js";
import { Heartbeat } from "./heartbeat.js";
import { loadBrokerAdapter } from "./adapters.js";
import { bootProgress, NO_BROKER_MESSAGE, unusedQueues, unusedQueuesWarning } from "./checks.js";
import { installLogging } from "./logging.js";
import { loadModules, ModuleLoadError } from "./modules.js";
import { probeBroker } from "./probe.js";
import { addDefaultPrometheus } from "./prometheus.js";

const config = JSON.parse(process.argv[2] ?? "{}") as WorkerConfig;
const name = `dq.WorkerProcess(${config.index})`;
if (!config.skipLogging) installLogging();
const logger = getLogger(name);

function report(message: WorkerReport): void {
  if (process.connected) process.send?.(message);
}

let worker: Worker | undefined;
let broker: Broker | undefined;
let stopping = false;
let heartbeatTimer: NodeJS.Timeout | undefined;

async function shutdown(): Promise<void> {
  if (stopping) {
    logger.warn(`Worker process ${config.index} killed by a second signal.`);
    process.exit(1);
  }
  stopping = true;
  logger.info(`Worker process ${config.index} is shutting down...`);
  let requeued = 0;
  if (worker) ({ requeued } = await worker.stop({ timeout: config.shutdownTimeout }));
  await broker?.close();
  clearInterval(heartbeatTimer);
  logger.info(`Worker process ${config.index} stopped${requeued ? ` (returned ${requeued} message${requeued === 1 ? "" : "s"} to the broker)` : ""}.`);
  process.disconnect?.();
  process.exit(0);
}

function onStopSignal(): void {
  shutdown().catch((error: unknown) => {
    logger.error(`Worker process ${config.index} failed to stop cleanly.`, error);
    process.exit(1);
  });
}

// Ctrl-C reaches every process of the group; the supervisor decides and forwards TERM.
process.on("SIGINT", () => undefined);
process.on("SIGTERM", onStopSignal);
process.on("SIGHUP", onStopSignal);
// The supervisor went away: stop rather than run unsupervised.
process.on("disconnect", onStopSignal);
process.on("uncaughtException", (error) => {
  logger.error(`Worker process ${config.index} crashed with an uncaught exception.`, error);
  process.exit(1);
});
process.on("unhandledRejection", (error) => {
  logger.error(`Worker process ${config.index} crashed with an unhandled rejection.`, error);
  process.exit(1);
});

async function boot(): Promise<void> {
  const progress = bootProgress((line) => logger.info(line), config.index);
  try {
    progress.stage("importing the broker adapter");
    await loadBrokerAdapter(config.modules);
    progress.stage(`importing ${config.modules.map((spec) => spec.given).join(", ")}`);
    await loadModules(config.modules);
    broker = getBroker();
    if (isImplicitBroker() && !config.inMemory) throw new InvalidOptionError(NO_BROKER_MESSAGE);
    await addDefaultPrometheus(broker, config.modules);
    await broker.emitAfter("processBoot");
  } catch (error) {
    const message =
      error instanceof ModuleLoadError || InvalidOptionError.isInstance(error) ? error.message : `could not load the modules: ${(error as Error)?.stack ?? String(error)}`;
    logger.error(message);
    report({ type: "boot-error", code: 2, message });
    process.exit(2);
  }
  try {
    progress.stage(`connecting to the broker (${broker.constructor.name})`);
    await probeBroker(broker, config.queues);
  } catch (error) {
    if (!ConnectionError.isInstance(error)) throw error;
    const message = `broker ${broker.constructor.name}: ${(error as Error).message}`;
    logger.error(message);
    report({ type: "boot-error", code: 3, message });
    process.exit(3);
  }
  progress.done();
  const heartbeat = new Heartbeat(broker, () => report(heartbeat.beat()));
  broker.addMiddleware(heartbeat);
  worker = new Worker(broker, { queues: config.queues, concurrency: config.concurrency, logger: getLogger(`${name}.Worker`) });
  await worker.start();
  heartbeatTimer = setInterval(() => report(heartbeat.beat()), config.heartbeatInterval);
  const queues = broker.getDeclaredQueues().filter((queue) => !config.queues || config.queues.includes(queue));
  logger.info(
    `Worker process ${config.index} booted: ${broker.constructor.name}, concurrency ${config.concurrency}, ` +
      `queues ${queues.join(", ") || "(none declared yet)"}, actors ${broker.getDeclaredActors().join(", ") || "(none)"}.`,
  );
  const unused = unusedQueues(config.queues, broker.getDeclaredQueues());
  if (unused.length > 0 && config.index === 0) logger.warn(unusedQueuesWarning(unused, broker.getDeclaredQueues()));
  const forks = broker.middleware.flatMap((middleware) => middleware.forks);
  report({ type: "booted", forks: [...forks], queues });
  report(heartbeat.beat());
}

boot().catch((error: unknown) => {
  logger.error(`Worker process ${config.index} failed to boot.`, error);
  process.exit(1);
});
