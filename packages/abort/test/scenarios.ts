import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, expect, it } from "@jest/globals";
import {
  Middleware,
  ResultFailure,
  Results,
  Retries,
  StubResultBackend,
  Worker,
  actor,
  defaultMiddleware,
  getAbortSignal,
  group,
  type Broker,
  type Message,
  type MessageProxy,
} from "@dq/core";
import type { Clock } from "@dq/core/adapter";
import { recordingLogger, rejection, uniqueQueueName, waitFor } from "@dq/core/testing";
import { Redis } from "ioredis";
import { Abort, Abortable, RedisAbortBackend, type AbortBackend } from "../src/index.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** The module of the isolated actor the worker threads load. */
const ISOLATED_FIXTURE = pathToFileURL(
  path.join(__dirname, "fixtures", "isolated-actors.mjs"),
).href;

/** Records how each message was settled. */
export class Spy extends Middleware {
  readonly started: string[] = [];
  readonly acked: string[] = [];
  readonly nacked: string[] = [];
  override beforeProcessMessage(_broker: Broker, message: MessageProxy): void {
    this.started.push(message.messageId);
  }
  override afterAck(_broker: Broker, message: MessageProxy): void {
    this.acked.push(message.messageId);
  }
  override afterNack(_broker: Broker, message: MessageProxy): void {
    this.nacked.push(message.messageId);
  }
}

/** Makes a broker with these middleware (and this clock), and says how to delete what it made. */
export type BrokerFactory = (
  middleware: Middleware[],
  queueName: string,
  clock?: Clock,
) => { broker: Broker; cleanup: () => Promise<void> };

/** Deletes every key under `prefix` (SCAN). */
export async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An abort backend for the scenarios, and how to read the remaining TTL of a request. */
export interface BackendFactory {
  make(): AbortBackend;
  /** The remaining TTL of a key in ms, when the backend can tell. */
  ttlOf?(backend: AbortBackend, key: string): Promise<number>;
  cleanup(): Promise<void>;
}

/** The Redis abort backend under a fresh prefix. */
export function redisBackends(): BackendFactory {
  const prefix = `dqtest-abort-${randomBytes(6).toString("hex")}:`;
  return {
    make: () => new RedisAbortBackend({ url: REDIS_URL, prefix }),
    ttlOf: (backend, key) => (backend as RedisAbortBackend).client.pttl(prefix + key),
    cleanup: () => deletePrefix(prefix),
  };
}

/** The abort scenarios of issue 21, on one broker with one kind of abort backend. */
export function defineAbortScenarios(
  makeBroker: BrokerFactory,
  backends: BackendFactory = redisBackends(),
): void {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(() => backends.cleanup());

  function setup(
    options: {
      clock?: Clock;
      logger?: ReturnType<typeof recordingLogger>;
      queueName?: string;
    } = {},
  ) {
    const queueName = options.queueName ?? uniqueQueueName("dqabort");
    const backend = backends.make();
    const results = new StubResultBackend();
    const abortable = new Abortable({ backend, logger: options.logger });
    const spy = new Spy();
    const middleware = [
      ...defaultMiddleware().filter((m) => !(m instanceof Retries)),
      new Retries({ minBackoff: 50, maxBackoff: 100, maxRetries: 3 }),
      new Results({ backend: results, storeResults: true }),
      abortable,
      spy,
    ];
    const { broker, cleanup } = makeBroker(middleware, queueName, options.clock);
    cleanups.push(async () => {
      await cleanup();
      await backend.close();
    });
    const startWorker = async (concurrency = 4) => {
      const worker = new Worker(broker, { concurrency, workerTimeout: 100 });
      cleanups.unshift(() => worker.stop({ timeout: 5000 }));
      await worker.start();
      return worker;
    };
    const failureOf = async (message: Message) => {
      const error = await rejection(results.getResult(message, { block: true, timeout: 20_000 }));
      expect(error).toBeInstanceOf(ResultFailure);
      return error as ResultFailure;
    };
    return { queueName, backend, results, abortable, spy, broker, startWorker, failureOf };
  }

  it("cancels a pending message: it never runs, is acked, and its failure is Abort", async () => {
    const env = setup();
    const ran: number[] = [];
    const job = actor((x: number) => void ran.push(x), {
      broker: env.broker,
      queueName: env.queueName,
      actorName: "pending_job",
    });
    const cancelled = await job.send(1);
    const kept = await job.send(2);
    const result = await env.abortable.abort(cancelled.messageId, { mode: "cancel" });
    expect(result).toMatchObject({ messageId: cancelled.messageId, mode: "cancel", ttl: 90_000 });
    await env.startWorker();
    const failure = await env.failureOf(cancelled);
    expect(failure.origExcType).toBe("Abort");
    await waitFor(() => ran.length === 1, "the other message");
    expect(ran).toEqual([2]);
    await waitFor(() => env.spy.acked.includes(cancelled.messageId), "the ack");
    expect(env.spy.nacked).toEqual([]);
    expect(kept.messageId).not.toBe(cancelled.messageId);
  });

  it("cancels a message delayed 10 minutes: its record outlives 90 s and it is skipped when due", async () => {
    const producer = setup();
    const job = actor((x: number) => x, {
      broker: producer.broker,
      queueName: producer.queueName,
      actorName: "delayed_job",
    });
    const message = await job.sendWithOptions({ args: [1], delay: 600_000 });
    // By id, as the dashboard does: the producer's Abortable recorded when the message is due.
    const result = await producer.abortable.abort(message.messageId, { mode: "cancel" });
    expect(result.ttl).toBeGreaterThan(600_000);
    if (backends.ttlOf) {
      const pttl = await backends.ttlOf(producer.backend, `cancel:${message.messageId}`);
      expect(pttl).toBeGreaterThan(590_000);
    }
    // A worker whose clock is 10 minutes ahead finds the message due now.
    const later = setupLater(producer.queueName);
    const ran: number[] = [];
    actor((x: number) => void ran.push(x), {
      broker: later.broker,
      queueName: producer.queueName,
      actorName: "delayed_job",
    });
    await later.startWorker();
    expect((await later.failureOf(message)).origExcType).toBe("Abort");
    expect(ran).toEqual([]);
    expect(later.spy.nacked).toEqual([]);
    expect(await later.backend.pending(`cancel:${message.messageId}`)).toBe(false);
  });

  function setupLater(queueName: string) {
    const offset = 600_000 + 5_000;
    return setup({ clock: { now: () => Date.now() + offset }, queueName });
  }

  it("keeps a cancel past abortTtl until a short delay is due, then skips the message", async () => {
    const env = setup();
    const ran: number[] = [];
    const job = actor((x: number) => void ran.push(x), {
      broker: env.broker,
      queueName: env.queueName,
      actorName: "short_delay_job",
    });
    await env.startWorker();
    const message = await job.sendWithOptions({ args: [1], delay: 2500 });
    const result = await env.abortable.abort(message, { mode: "cancel", abortTtl: 300 });
    expect(result.ttl).toBeGreaterThanOrEqual(2500);
    const failure = await env.failureOf(message);
    expect(failure.origExcType).toBe("Abort");
    expect(ran).toEqual([]);
  });

  it("aborts a running async actor: Abort signal, acked, not retried, failure stored, onAbort sent", async () => {
    const env = setup();
    const runs: string[] = [];
    const reasons: unknown[] = [];
    const onAbort: string[] = [];
    actor((messageId: string) => void onAbort.push(messageId), {
      broker: env.broker,
      queueName: env.queueName,
      actorName: "on_abort",
    });
    const job = actor(
      async function watchful(id: string) {
        runs.push(id);
        const signal = getAbortSignal()!;
        await new Promise((_, reject) =>
          signal.addEventListener("abort", () => {
            reasons.push(signal.reason);
            reject(signal.reason as Error);
          }),
        );
      },
      { broker: env.broker, queueName: env.queueName, onAbort: "on_abort" },
    );
    await env.startWorker();
    const message = await job.send("a");
    await waitFor(() => runs.length === 1, "the actor to start");
    await env.abortable.abort(message.messageId);
    const failure = await env.failureOf(message);
    expect(failure.origExcType).toBe("Abort");
    expect(Abort.isInstance(reasons[0])).toBe(true);
    await waitFor(() => onAbort.length === 1, "the onAbort actor");
    expect(onAbort).toEqual([message.messageId]);
    await waitFor(() => env.spy.acked.includes(message.messageId), "the ack");
    await sleep(500); // a retry would have run by now (backoff 50-100 ms)
    expect(runs).toEqual(["a"]);
    expect(env.spy.nacked).toEqual([]);
  });

  it("aborts a running isolated while (true) actor: its thread is terminated, 50 other messages run", async () => {
    const env = setup();
    const spin = actor(function abortIsolatedSpin() {}, {
      broker: env.broker,
      queueName: env.queueName,
      isolate: "thread",
      module: ISOLATED_FIXTURE,
    });
    const double = actor((x: number) => x * 2, {
      broker: env.broker,
      queueName: env.queueName,
      actorName: "abortDouble",
    });
    await env.startWorker(4);
    const looping = await spin.send();
    await waitFor(() => env.spy.started.includes(looping.messageId), "the loop to start", 30_000);
    const others = await Promise.all(Array.from({ length: 50 }, (_, i) => double.send(i)));
    await env.abortable.abort(looping.messageId);
    const failure = await env.failureOf(looping);
    expect(failure.origExcType).toBe("Abort");
    await waitFor(() => env.spy.acked.includes(looping.messageId), "the loop's ack", 30_000);
    const results = await Promise.all(
      others.map((message) => env.results.getResult(message, { block: true, timeout: 30_000 })),
    );
    expect(results).toEqual(others.map((_, i) => i * 2));
    // Not retried; and the thread was terminated: a thread still spinning would use about a whole
    // core of this process (a second of CPU per second).
    await sleep(300);
    expect(env.spy.started.filter((id) => id === looping.messageId)).toHaveLength(1);
    const before = process.cpuUsage();
    await sleep(1000);
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000).toBeLessThan(500);
    expect(env.spy.nacked).toEqual([]);
  }, 60_000);

  it("stops waiting for an actor that ignores its signal after abortTimeout", async () => {
    const env = setup();
    const done: string[] = [];
    const job = actor(
      async function stubborn(id: string, ms: number) {
        done.push(`start ${id}`);
        await sleep(ms);
        done.push(`end ${id}`);
      },
      { broker: env.broker, queueName: env.queueName },
    );
    const worker = await env.startWorker(1);
    const first = await job.send("first", 4000);
    await waitFor(() => done.includes("start first"), "the first message to start");
    const second = await job.send("second", 0);
    await env.abortable.abort(first.messageId, { abortTimeout: 300 });
    expect((await env.failureOf(first)).origExcType).toBe("Abort");
    // The slot was freed: the second message ran while the first still sleeps.
    await waitFor(() => done.includes("end second"), "the second message");
    expect(done).not.toContain("end first");
    expect(await env.results.getResult(second, { block: true, timeout: 10_000 })).toBeNull();
    expect(worker.activeCount).toBe(0);
    await waitFor(() => done.includes("end first"), "the ignored invocation to finish", 10_000);
  });

  it("aborts a group of 20: running ones interrupted, pending ones cancelled", async () => {
    const env = setup();
    const completed: number[] = [];
    const started: number[] = [];
    const job = actor(
      async function grouped(i: number) {
        started.push(i);
        const signal = getAbortSignal()!;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, 8000);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(signal.reason as Error);
          });
        });
        completed.push(i);
      },
      { broker: env.broker, queueName: env.queueName },
    );
    const messages = Array.from({ length: 20 }, (_, i) => job.message(i));
    const twenty = group(messages, { broker: env.broker });
    await twenty.run();
    await env.startWorker(4);
    await waitFor(() => started.length >= 4, "four messages to start");
    const results = await env.abortable.abort(twenty);
    expect(results).toHaveLength(20);
    for (const message of messages)
      expect((await env.failureOf(message)).origExcType).toBe("Abort");
    expect(completed).toEqual([]);
    expect(started.length).toBeLessThan(20);
    await waitFor(() => env.spy.acked.length === 20, "20 acks");
    expect(env.spy.nacked).toEqual([]);
  });

  it("says so when nobody takes the abort of an unknown id", async () => {
    const logger = recordingLogger();
    const env = setup({ logger });
    await env.startWorker();
    const id = randomUUID();
    const result = await env.abortable.abort(id, { waitFor: 1500 });
    expect(result).toMatchObject({ messageId: id, mode: "abort", claimed: false });
    expect(logger.lines.join("\n")).toContain(`No worker took the abort request of message ${id}`);
  });
}
