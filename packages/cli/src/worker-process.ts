// The entry of one worker process, forked by the supervisor: imports the user's modules, starts a
// Worker, reports boot and heartbeats over IPC, and stops gracefully on TERM/HUP, on the
// supervisor's stop command, or when the supervisor is gone.
import {
  ConnectionError,
  getBroker,
  getLogger,
  InvalidOptionError,
  isImplicitBroker,
  Worker,
  type Broker,
} from "@dq/core";
import { isSupervisorCommand, type WorkerConfig, type WorkerReport } from "./ipc.js";
import { Heartbeat } from "./heartbeat.js";
import { loadBrokerAdapter } from "./adapters.js";
import { bootProgress, NO_BROKER_MESSAGE, unusedQueues, unusedQueuesWarning } from "./checks.js";
import { installLogging } from "./logging.js";
import { loadModules, ModuleLoadError } from "./modules.js";
import { guardPipes, sendToSupervisor } from "./pipes.js";
import { PoisonGuard } from "./poison.js";
import { probeBroker } from "./probe.js";
import { addPrometheus } from "./prometheus.js";

guardPipes();
const config = JSON.parse(process.argv[2] ?? "{}") as WorkerConfig;
const name = `dq.WorkerProcess(${config.index})`;
if (!config.skipLogging) installLogging();
const logger = getLogger(name);
const poison = new PoisonGuard(
  config.maxKills,
  config.kills ?? {},
  getLogger(`${name}.PoisonGuard`),
);

function report(message: WorkerReport): void {
  sendToSupervisor(message);
}

let worker: Worker | undefined;
let broker: Broker | undefined;
let stopping = false;
let signals = 0;
let heartbeatTimer: NodeJS.Timeout | undefined;

/**
 * Stops the worker within `timeout` ms for running messages plus `closeTimeout` ms to return what
 * it holds and close the broker: an unreachable broker does not stretch the stop beyond that (the
 * broker then redelivers what was not returned: Redis from the ack sets, RabbitMQ on disconnect).
 */
async function shutdown(why: string, timeout = config.shutdownTimeout): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info(`Worker process ${config.index} is shutting down (${why})...`);
  const bound = setTimeout(() => {
    logger.error(
      `Worker process ${config.index} could not return its messages and close the broker within ${config.closeTimeout} ms after the ` +
        `${timeout} ms shutdown timeout; exiting (the broker redelivers what it still holds).`,
    );
    process.exit(1);
  }, timeout + config.closeTimeout);
  let requeued = 0;
  if (worker) ({ requeued } = await worker.stop({ timeout }));
  await broker?.close();
  clearTimeout(bound);
  clearInterval(heartbeatTimer);
  logger.info(
    `Worker process ${config.index} stopped${requeued ? ` (returned ${requeued} message${requeued === 1 ? "" : "s"} to the broker)` : ""}.`,
  );
  if (process.connected) process.disconnect?.();
  process.exit(0);
}

function stop(why: string, timeout?: number): void {
  shutdown(why, timeout).catch((error: unknown) => {
    logger.error(`Worker process ${config.index} failed to stop cleanly.`, error);
    process.exit(1);
  });
}

function onStopSignal(signal: NodeJS.Signals): void {
  if (++signals > 1) {
    logger.warn(`Worker process ${config.index} killed by a second signal (${signal}).`);
    process.exit(1);
  }
  stop(signal);
}

// Ctrl-C reaches every process of the group; the supervisor decides and sends the stop command.
process.on("SIGINT", () => undefined);
process.on("SIGTERM", onStopSignal);
process.on("SIGHUP", onStopSignal);
// The supervisor's stop is not a signal: with a TERM sent to the whole group, the process gets
// both, and they make one graceful stop.
process.on("message", (message) => {
  if (!isSupervisorCommand(message)) return;
  if (message.type === "stop")
    stop(
      message.timeout === undefined ? "asked by the supervisor" : "recycled by the supervisor",
      message.timeout,
    );
  else poison.update(message.counts);
});
// The supervisor went away: drain and stop rather than run unsupervised.
process.on("disconnect", () => stop("the supervisor is gone"));
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
    await addPrometheus(
      broker,
      config.modules,
      config.metrics,
      config.index === 0 ? logger : undefined,
    );
    await broker.emitAfter("processBoot");
  } catch (error) {
    const message =
      error instanceof ModuleLoadError || InvalidOptionError.isInstance(error)
        ? error.message
        : `could not load the modules: ${(error as Error)?.stack ?? String(error)}`;
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
  if (stopping) return;
  const heartbeat = new Heartbeat(broker, () => report(heartbeat.beat()));
  poison.install(broker);
  broker.addMiddleware(heartbeat);
  worker = new Worker(broker, {
    queues: config.queues,
    concurrency: config.concurrency,
    logger: getLogger(`${name}.Worker`),
  });
  await worker.start();
  heartbeatTimer = setInterval(() => report(heartbeat.beat()), config.heartbeatInterval);
  const queues = broker
    .getDeclaredQueues()
    .filter((queue) => !config.queues || config.queues.includes(queue));
  logger.info(
    `Worker process ${config.index} booted: ${broker.constructor.name}, concurrency ${config.concurrency}, ` +
      `queues ${queues.join(", ") || "(none declared yet)"}, actors ${broker.getDeclaredActors().join(", ") || "(none)"}.`,
  );
  const unused = unusedQueues(config.queues, broker.getDeclaredQueues());
  if (unused.length > 0 && config.index === 0)
    logger.warn(unusedQueuesWarning(unused, broker.getDeclaredQueues()));
  const forks = broker.middleware.flatMap((middleware) => middleware.forks);
  report({ type: "booted", forks: [...forks], queues });
  report(heartbeat.beat());
}

boot().catch((error: unknown) => {
  logger.error(`Worker process ${config.index} failed to boot.`, error);
  process.exit(1);
});
