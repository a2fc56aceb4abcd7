// What every scenario of the suite uses: child processes (workers, producers, `dq`), the ledger,
// dead letters, and writing the scenario's row. Children run the package's build (dist/).
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import amqp from "amqplib";
import { RabbitmqBroker } from "@dq/broker-rabbitmq";
import { RedisBroker } from "@dq/broker-redis";
import {
  ledgerKeys,
  type BrokerConfig,
  type PlannedSend,
  type ProducerChildConfig,
  type ScenarioConfig,
  type WorkerChildConfig,
} from "../../src/config.js";
import { exited, spawnTracked, stopChild, waitExit } from "../../src/processes.js";
import { count, type Counts, type Row, type Tally } from "../../src/table.js";

export const PACKAGE_DIR = path.resolve(__dirname, "../..");
const DIST = path.join(PACKAGE_DIR, "dist");
export const RESULTS_DIR = path.join(PACKAGE_DIR, "results");
export const ROWS_DIR = path.join(RESULTS_DIR, "rows");
export const SHARED_REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const SHARED_AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
/** A unique tag per test file run: namespaces, queues and ledger keys carry it. */
export const RUN = `dqrel${process.pid}x${Date.now().toString(36)}`;

/** A scenario's working directory (configs, sent-id files, child logs), kept after the run for a look. */
export function scenarioDir(name: string): string {
  const dir = path.join(RESULTS_DIR, "logs", name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A scenario config on `broker` with its own queue and ledger prefix. */
export function scenario(
  name: string,
  broker: BrokerConfig,
  extra: Partial<ScenarioConfig> = {},
): ScenarioConfig {
  return {
    broker,
    queue: `${RUN}_${name}`,
    ledgerUrl: SHARED_REDIS_URL,
    ledgerPrefix: `${RUN}:${name}:ledger`,
    ...extra,
  };
}

function requireDist(file: string): string {
  const target = path.join(DIST, file);
  if (!existsSync(target))
    throw new Error(
      `${target} is missing: build the package first (pnpm --filter @dq/reliability build)`,
    );
  return target;
}

function childEnv(): NodeJS.ProcessEnv {
  return { ...process.env, DQ_LOG_LEVEL: process.env.DQ_REL_CHILD_LOG_LEVEL ?? "warn" };
}

/** A worker child; `ready` resolves once its Worker consumes. */
export interface WorkerChild {
  child: ChildProcess;
  ready: Promise<void>;
}

/** Starts a worker child (dist/worker-main.js) and waits until it consumes (bounded). */
export async function startWorker(
  dir: string,
  name: string,
  config: ScenarioConfig,
  concurrency = 8,
): Promise<ChildProcess> {
  const file = path.join(dir, `${name}.json`);
  const full: WorkerChildConfig = { ...config, concurrency };
  writeFileSync(file, JSON.stringify(full));
  const child = spawnTracked(process.execPath, [requireDist("worker-main.js"), file], {
    ipc: true,
    env: childEnv(),
    logFile: path.join(dir, `${name}.log`),
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker ${name} not ready after 60 s (see ${dir}/${name}.log)`)),
      60_000,
    );
    child.on("message", (message: { type?: string }) => {
      if (message?.type !== "ready") return;
      clearTimeout(timer);
      resolve();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `worker ${name} exited (code ${code}) before it was ready (see ${dir}/${name}.log)`,
        ),
      );
    });
  });
  return child;
}

/** Stops worker children gracefully (SIGTERM), SIGKILL past 30 s. */
export async function stopWorkers(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(children.map((child) => stopChild(child, "SIGTERM", 30_000)));
}

/** What a producer child did. */
export interface ProducerRun {
  /** Ids of the sends that resolved. */
  sent: string[];
  /** The child's exit code (0 normally). */
  code: number | null;
  /** Send attempts that failed (and were retried). */
  failures: number;
  /** Sends given up after `retryForMs`. */
  givenUp: number;
  /** Messages refused when built (invalid options), never sent. */
  refused: number;
}

/**
 * Starts a producer child (dist/producer-main.js) with `plan`; `done` resolves when it exited
 * (bounded by `timeout`: it is killed then), with the ids it reports sent.
 */
export function startProducer(
  dir: string,
  name: string,
  config: ScenarioConfig,
  plan: PlannedSend[],
  options: { durationMs: number; retryForMs?: number; timeout?: number; closeBeforeExit?: boolean },
): { child: ChildProcess; done: Promise<ProducerRun> } {
  const file = path.join(dir, `${name}.json`);
  const sentFile = path.join(dir, `${name}.sent`);
  const full: ProducerChildConfig = {
    ...config,
    plan,
    durationMs: options.durationMs,
    retryForMs: options.retryForMs ?? 60_000,
    sentFile,
    closeBeforeExit: options.closeBeforeExit ?? false,
  };
  writeFileSync(file, JSON.stringify(full));
  const child = spawnTracked(process.execPath, [requireDist("producer-main.js"), file], {
    ipc: true,
    env: childEnv(),
    logFile: path.join(dir, `${name}.log`),
  });
  let report = { failures: 0, given: 0, refused: 0 };
  child.on(
    "message",
    (message: { type?: string; failures?: number; given?: number; refused?: number }) => {
      if (message?.type === "done")
        report = {
          failures: message.failures ?? 0,
          given: message.given ?? 0,
          refused: message.refused ?? 0,
        };
    },
  );
  const done = (async () => {
    if (!(await waitExit(child, options.timeout ?? 120_000)))
      await stopChild(child, "SIGKILL", 5000);
    const sent = existsSync(sentFile)
      ? readFileSync(sentFile, "utf8").split("\n").filter(Boolean)
      : [];
    return {
      sent,
      code: child.exitCode,
      failures: report.failures,
      givenUp: report.given,
      refused: report.refused,
    };
  })();
  return { child, done };
}

/** The `dq` command (packages/cli) running the suite's module on the scenario's broker. */
export function startDq(
  dir: string,
  name: string,
  config: ScenarioConfig,
  args: readonly string[],
): ChildProcess {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  // The workspace link (jest's module mapper would send a require.resolve of @dq/cli to its sources).
  const bin = realpathSync(path.join(PACKAGE_DIR, "node_modules", "@dq", "cli", "dist", "bin.js"));
  return spawnTracked(
    process.execPath,
    [bin, `${requireDist("dq-module.js")}:broker`, "-Q", config.queue, ...args],
    {
      env: { ...childEnv(), DQ_REL_CONFIG: file, DQ_PROMETHEUS: "0" },
      logFile: path.join(dir, `${name}.log`),
      group: true,
    },
  );
}

/**
 * Stops a `dq` run: SIGTERM to the supervisor alone (it stops its workers), then SIGKILL to
 * whatever is left of its process group after 30 s.
 */
export async function stopDq(child: ChildProcess): Promise<void> {
  if (!exited(child) && child.pid !== undefined) {
    try {
      process.kill(child.pid, "SIGTERM");
    } catch {
      // Gone already.
    }
    await waitExit(child, 30_000);
  }
  await stopChild(child, "SIGKILL", 1000, true);
}

/** Reads the ledger (the shared Redis, never restarted) of a scenario. */
export class Ledger {
  private readonly redis: Redis;
  private readonly keys: ReturnType<typeof ledgerKeys>;

  constructor(config: ScenarioConfig) {
    this.redis = new Redis(config.ledgerUrl, { maxRetriesPerRequest: 3 });
    this.keys = ledgerKeys(config.ledgerPrefix);
  }

  async done(): Promise<string[]> {
    return this.redis.lrange(this.keys.done, 0, -1);
  }

  async attempts(): Promise<string[]> {
    return this.redis.lrange(this.keys.attempts, 0, -1);
  }

  async boots(): Promise<string[]> {
    return this.redis.lrange(this.keys.boots, 0, -1);
  }

  /** Deletes the scenario's ledger keys and disconnects. */
  async close(): Promise<void> {
    await this.redis
      .del(this.keys.done, this.keys.attempts, this.keys.boots)
      .catch(() => undefined);
    this.redis.disconnect();
  }
}

/** The ids in a queue's dead-letter queue (`undecodable` counts letters without a message). */
export async function deadLetters(
  config: ScenarioConfig,
): Promise<{ ids: string[]; undecodable: number }> {
  const { broker: brokerConfig, queue } = config;
  if (brokerConfig.kind === "redis") {
    const broker = new RedisBroker({
      url: brokerConfig.url,
      namespace: brokerConfig.namespace,
      maxRetriesPerRequest: 3,
    });
    try {
      const letters = await broker.getDeadLetters(queue);
      return {
        ids: letters.flatMap((letter) => (letter.message ? [letter.message.messageId] : [])),
        undecodable: letters.filter((letter) => !letter.message).length,
      };
    } finally {
      await broker.close();
    }
  }
  const broker = new RabbitmqBroker({ url: brokerConfig.url });
  try {
    const letters = await broker.getDeadLetters(queue);
    return {
      ids: letters.flatMap((letter) => (letter.message ? [letter.message.messageId] : [])),
      undecodable: letters.filter((letter) => !letter.message).length,
    };
  } finally {
    await broker.close();
  }
}

/**
 * What is still on the broker for the scenario's queue at the end, for the notes: tells messages
 * that wait (unconsumed or stranded) from messages the broker never had.
 */
export async function queueState(config: ScenarioConfig): Promise<string> {
  const { broker: brokerConfig, queue } = config;
  try {
    if (brokerConfig.kind === "redis") {
      const broker = new RedisBroker({
        url: brokerConfig.url,
        namespace: brokerConfig.namespace,
        maxRetriesPerRequest: 3,
      });
      try {
        const counts = await broker.getQueueMessageCounts(queue);
        return `left on Redis: ${counts.ready} ready, ${counts.inFlight} fetched unacked, ${counts.delayed} delayed`;
      } finally {
        await broker.close();
      }
    }
    const broker = new RabbitmqBroker({ url: brokerConfig.url });
    try {
      const counts = await broker.getQueueMessageCounts(queue);
      return `left ready on RabbitMQ: ${counts.ready} in q, ${counts.delayed} in q.DQ`;
    } finally {
      await broker.close();
    }
  } catch (error) {
    return `queue state unknown (${(error as Error).message})`;
  }
}

/** Deletes what a scenario left on a shared server: its Redis namespace keys, or its RabbitMQ queues. */
export async function cleanShared(config: ScenarioConfig): Promise<void> {
  const brokerConfig = config.broker;
  if (brokerConfig.kind === "redis") {
    const redis = new Redis(brokerConfig.url, { maxRetriesPerRequest: 3 });
    try {
      let cursor = "0";
      for (let rounds = 0; rounds < 10_000; rounds++) {
        const [next, keys] = await redis.scan(
          cursor,
          "MATCH",
          `${brokerConfig.namespace}:*`,
          "COUNT",
          1000,
        );
        if (keys.length) await redis.unlink(...keys);
        cursor = next;
        if (cursor === "0") break;
      }
    } finally {
      redis.disconnect();
    }
    return;
  }
  const connection = await amqp.connect(brokerConfig.url);
  try {
    const channel = await connection.createChannel();
    for (const name of [config.queue, `${config.queue}.DQ`, `${config.queue}.XQ`])
      await channel.deleteQueue(name);
    await channel.close();
  } finally {
    await connection.close();
  }
}

/**
 * Polls `settled` until it says the scenario is over, or `timeout` ms pass.
 * @returns whether it settled in time
 */
export async function waitSettled(
  timeout: number,
  settled: () => Promise<boolean>,
  interval = 500,
): Promise<boolean> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await settled().catch(() => false)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(interval);
  }
}

/** Gathers a scenario's tally from the ledger and the dead letters, and counts it. */
export async function gather(
  ledger: Ledger,
  config: ScenarioConfig,
  sent: readonly string[],
  results?: ReadonlySet<string>,
): Promise<Counts & { attemptsList: string[]; undecodable: number }> {
  const [done, attempts, dead] = await Promise.all([
    ledger.done(),
    ledger.attempts(),
    deadLetters(config),
  ]);
  const tally: Tally = { sent, done, attempts, dead: dead.ids, results };
  return { ...count(tally), attemptsList: attempts, undecodable: dead.undecodable };
}

/** Writes a scenario's row to results/rows/ (the global teardown prints the table). */
export function writeRow(order: number, row: Row): void {
  mkdirSync(ROWS_DIR, { recursive: true });
  writeFileSync(
    path.join(ROWS_DIR, `${String(order).padStart(2, "0")}-${row.broker}.json`),
    JSON.stringify(row),
  );
}

/** Whether a command is on PATH or an absolute path that exists. */
export function haveCommand(command: string): boolean {
  if (path.isAbsolute(command)) return existsSync(command);
  return (process.env.PATH ?? "")
    .split(path.delimiter)
    .some((dir) => existsSync(path.join(dir, command)));
}

/** `it` when the servers/commands exist or under CI (where their absence is a failure), else `it.skip`. */
export function available(...commands: string[]): boolean {
  return Boolean(process.env.CI) || commands.every(haveCommand);
}
