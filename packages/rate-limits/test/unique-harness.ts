import { connect } from "amqplib";
import { Redis } from "ioredis";
import {
  actor,
  defaultMiddleware,
  Middleware,
  StubBroker,
  Worker,
  type ActorOptions,
  type Broker,
  type Message,
  type MessageProxy,
} from "@dq/core";
import { deadLetterQueueName, delayQueueName } from "@dq/core/adapter";
import { recordingLogger } from "@dq/core/testing";
import { RedisBroker } from "@dq/broker-redis";
import { RabbitmqBroker } from "@dq/broker-rabbitmq";
import { CompletedGuard, StubRateLimiterBackend, Unique } from "../src/index.js";
import type { RateLimiterBackend } from "../src/index.js";
import { MemcachedRateLimiterBackend } from "../src/memcached.js";
import { RedisRateLimiterBackend } from "../src/redis.js";
import { MEMCACHED_SERVERS, REDIS_URL, uniqueKey } from "./helpers.js";

export const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

export type BrokerKind = "stub" | "redis" | "rabbitmq";
export type BackendKind = "stub" | "redis" | "memcached";

/** Counts the messages workers skipped (acked without running the actor). */
class SkipCounter extends Middleware {
  skipped = 0;
  override afterSkipMessage(_broker: Broker, _message: MessageProxy): void {
    this.skipped++;
  }
}

const cleanups: (() => Promise<unknown>)[] = [];

/** Runs every cleanup registered by `harness` (call in afterEach). */
export async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
}

export function makeBackend(kind: BackendKind): RateLimiterBackend {
  const backend =
    kind === "stub"
      ? new StubRateLimiterBackend()
      : kind === "redis"
        ? new RedisRateLimiterBackend({ url: REDIS_URL })
        : new MemcachedRateLimiterBackend({ servers: MEMCACHED_SERVERS });
  cleanups.push(() => backend.close());
  return backend;
}

function makeBroker(kind: BrokerKind, middleware: Middleware[], queueName: string): Broker {
  const logger = recordingLogger();
  if (kind === "stub") return new StubBroker({ middleware, logger });
  if (kind === "redis") {
    const namespace = uniqueKey("dqunique");
    const broker = new RedisBroker({
      url: REDIS_URL,
      namespace,
      maintenanceChance: 0,
      middleware,
      logger,
    });
    cleanups.push(async () => {
      await broker.close();
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
      const keys = await redis.keys(`${namespace}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    });
    return broker;
  }
  const broker = new RabbitmqBroker({ url: AMQP_URL, middleware, logger });
  cleanups.push(async () => {
    await broker.close();
    const connection = await connect(AMQP_URL);
    for (const queue of [queueName, delayQueueName(queueName), deadLetterQueueName(queueName)]) {
      const channel = await connection.createChannel();
      channel.on("error", () => undefined);
      await channel.deleteQueue(queue).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
    await connection.close();
  });
  return broker;
}

export interface HarnessOptions {
  broker: BrokerKind;
  backend: BackendKind;
  /** Install `CompletedGuard` (default false). */
  guard?: boolean;
  /** Worker concurrency (default 4). */
  concurrency?: number;
}

/**
 * A broker of `kind` with the default middleware, `Unique` and maybe `CompletedGuard` on a
 * backend of `backend`, a fresh queue, and `job(label)`, an actor that records its runs and fails
 * for labels starting with "fail" and waits for `gate` when it is set.
 */
export function harness(options: HarnessOptions, actorOptions: ActorOptions<[string]> = {}) {
  const backend = makeBackend(options.backend);
  const queueName = uniqueKey("dqunique").replace(/-/g, "_");
  const skips = new SkipCounter();
  const middleware: Middleware[] = [...defaultMiddleware(), new Unique(backend), skips];
  if (options.guard) middleware.push(new CompletedGuard(backend, { ttl: 60_000 }));
  const broker = makeBroker(options.broker, middleware, queueName);
  const runs: string[] = [];
  const started: string[] = [];
  const state: { gate: Promise<void> | undefined } = { gate: undefined };
  const job = actor(
    async function unique_job(label: string) {
      started.push(label);
      if (state.gate) await state.gate;
      if (label.startsWith("fail")) throw new Error(`job ${label} failed`);
      runs.push(label);
    },
    { broker, queueName, ...actorOptions },
  );
  let worker: Worker | undefined;
  const start = async () => {
    worker = new Worker(broker, { concurrency: options.concurrency ?? 4, workerTimeout: 50 });
    await worker.start();
  };
  cleanups.unshift(async () => {
    await worker?.stop({ timeout: 5000 });
    if (options.broker === "stub") await broker.close();
  });
  /** Lets a gated job go on; a new gate is set until `open` is called. */
  const closeGate = () => {
    let open!: () => void;
    state.gate = new Promise<void>((resolve) => (open = resolve));
    return () => {
      state.gate = undefined;
      open();
    };
  };
  const lockOf = (message: Message) => message.options.uniqueLock as string;
  return { backend, broker, queueName, job, runs, started, skips, start, closeGate, lockOf };
}
