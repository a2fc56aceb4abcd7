import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { actor, Results, StubBroker, Worker, type Message } from "@dq/core";
import {
  recordingLogger,
  redisServerAvailable,
  waitFor,
  APPEND_ONLY,
  PrivateRedis,
} from "@dq/core/testing";
import { RedisResultBackend } from "../src/index.js";

// Private redis-servers that these tests pause and kill: the shared server is never touched.
const describeWithRedisServer = redisServerAvailable() ? describe : describe.skip;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithRedisServer("Results while the Redis result backend is away", () => {
  let redis: PrivateRedis;
  let backend: RedisResultBackend;
  let broker: StubBroker;
  let worker: Worker;
  const logger = recordingLogger();

  beforeEach(async () => {
    logger.lines.length = 0;
    redis = await PrivateRedis.start(APPEND_ONLY);
    backend = new RedisResultBackend({
      url: redis.url,
      namespace: "dqtest-outage",
      logger,
      connectTimeout: 500,
    });
  });

  afterEach(async () => {
    redis.resume();
    await worker?.stop({ timeout: 5000 });
    await backend.close();
    await redis.destroy();
  }, 60_000);

  function start(results: Results) {
    broker = new StubBroker({ logger });
    broker.addMiddleware(results);
    worker = new Worker(broker, { concurrency: 4, workerTimeout: 50 });
    const square = actor((x: number) => x * x, { broker, actorName: "square", storeResults: true });
    return { square };
  }

  it("stores every result once a paused backend answers again, and keeps other messages flowing meanwhile", async () => {
    const { square } = start(new Results({ backend }));
    await worker.start();
    const sent: Message<number>[] = [];
    for (let i = 0; i < 5; i++) sent.push(await square.send(i));
    await broker.join("default", { timeout: 10_000 });
    redis.pause();
    const pausedAt = Date.now();
    let otherDone = 0;
    // On another queue: the messages waiting for their stores hold their queue's prefetch window
    // (store, then ack), not the worker's slots.
    const other = actor(() => void otherDone++, { broker, actorName: "other", queueName: "other" });
    // ~5 s paused: results wait, the other messages do not.
    for (let i = 5; i < 25; i++) {
      sent.push(await square.send(i));
      await other.send();
      await sleep(200);
    }
    expect(otherDone).toBeGreaterThanOrEqual(15);
    await sleep(Math.max(0, 5000 - (Date.now() - pausedAt)));
    redis.resume();
    await broker.join("default", { timeout: 60_000 });
    const values = await Promise.all(sent.map((message) => backend.getResult(message)));
    expect(values).toEqual(sent.map((_message, i) => i * i));
    expect(logger.lines.filter((line) => line.startsWith("error Could not store"))).toEqual([]);
  }, 90_000);

  it("logs at ERROR, with its message id, each result it could not store while the server was down", async () => {
    const results = new Results({
      backend,
      storeAttempts: 2,
      storeMinBackoff: 50,
      storeMaxBackoff: 100,
      storeTimeout: 1000,
    });
    const { square } = start(results);
    await worker.start();
    await redis.kill();
    const sent: Message<number>[] = [];
    for (let i = 0; i < 10; i++) sent.push(await square.send(i));
    await broker.join("default", { timeout: 30_000 });
    await redis.start();
    const after: Message<number>[] = [];
    for (let i = 10; i < 15; i++) after.push(await square.send(i));
    await broker.join("default", { timeout: 30_000 });
    // Every message is either stored or named in an ERROR line; those sent after the return are stored.
    for (const message of sent) {
      const stored = await backend.getResult(message).then(
        () => true,
        () => false,
      );
      const logged = logger.lines.some((line) =>
        line.startsWith(`error Could not store the result of message ${message.messageId}`),
      );
      expect(stored || logged).toBe(true);
    }
    expect(results.failedStores).toBe(
      logger.lines.filter((line) => line.startsWith("error Could not store")).length,
    );
    expect(results.failedStores).toBeGreaterThan(0);
    await waitFor(
      async () =>
        (await Promise.all(after.map((message) => backend.getResult(message)))).length === 5,
      "results after the return",
    );
    expect(await Promise.all(after.map((message) => backend.getResult(message)))).toEqual([
      100, 121, 144, 169, 196,
    ]);
  }, 90_000);

  it("holds back any number of stores while disconnected without piling up listeners", async () => {
    await backend.storeResult(square50(0), 0, 60_000);
    // Jest's sandboxed `process` does not see MaxListenersExceededWarning: watch the listeners.
    const client = (backend as unknown as { client: import("ioredis").Redis }).client;
    let most = 0;
    client.on("newListener", (event: string | symbol) => {
      if (event === "ready") most = Math.max(most, client.listenerCount("ready") + 1);
    });
    await redis.kill();
    await sleep(300); // the client notices the closed connection and starts reconnecting
    const stores = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        backend.storeResult(square50(i), i, 60_000).then(
          () => "stored",
          () => "refused",
        ),
      ),
    );
    expect(stores).toContain("refused");
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2);
    await redis.start();
  }, 60_000);
});

/** A message of a throwaway actor, to store a result for. */
function square50(i: number): Message<number> {
  const broker = new StubBroker();
  return actor((x: number) => x * x, { broker, actorName: "square50" }).message(i);
}
