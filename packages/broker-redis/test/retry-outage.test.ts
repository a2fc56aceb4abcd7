import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { actor, defaultMiddleware, Retries, Worker } from "@dq/core";
import { recordingLogger, redisServerAvailable, APPEND_ONLY, PrivateRedis } from "@dq/core/testing";
import { RedisBroker } from "../src/index.js";
import { waitFor } from "./helpers.js";

// A private redis-server (AOF, appendfsync always) that this test kills and restarts: the shared
// server is never touched.
const describeWithRedisServer = redisServerAvailable() ? describe : describe.skip;

describeWithRedisServer("a retry enqueued while Redis is down", () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await PrivateRedis.start(APPEND_ONLY);
  });
  afterAll(async () => {
    await redis?.destroy();
  });

  it("requeues the failed message instead of acking it, and retries it once Redis is back", async () => {
    const logger = recordingLogger();
    const middleware = [
      ...defaultMiddleware().filter((m) => !(m instanceof Retries)),
      new Retries({ minBackoff: 10, maxBackoff: 50 }),
    ];
    const broker = new RedisBroker({
      url: redis.url,
      namespace: "dqtest-outage",
      logger,
      middleware,
      heartbeatTimeout: 600_000,
    });
    const runs: number[] = [];
    let killed: Promise<void> | undefined;
    const failing = actor(
      function failsDuringOutage() {
        runs.push(Date.now());
        // The first run takes Redis down: its retry's enqueue meets a dead server.
        if (runs.length === 1) killed = redis.kill();
        throw new Error(`run ${runs.length} fails`);
      },
      { broker, maxRetries: 2 },
    );
    const worker = new Worker(broker, {
      concurrency: 2,
      workerTimeout: 100,
      restartDelay: 200,
      enqueueRetry: { attempts: 3, minBackoff: 100, maxBackoff: 200 },
    });
    try {
      const message = await failing.send();
      await worker.start();
      await waitFor(() => killed !== undefined, "the first run", 10_000);
      await killed;
      // Down long enough for the retry's enqueue to give up: the message must be requeued, not acked.
      await waitFor(
        () =>
          logger.lines.some((line) =>
            line.startsWith(`error Requeuing message ${message.messageId}`),
          ),
        "the requeue",
        15_000,
      );
      expect(runs).toHaveLength(1);
      await redis.start();
      // Back up: the requeued message runs again and, with maxRetries 2, is dead-lettered after
      // its retries (three more runs at least); nothing is lost on the way.
      await waitFor(() => runs.length >= 4, "the retries after Redis came back", 30_000);
      await broker.join(failing.queueName, { timeout: 30_000 });
      const dead = await broker.client.zrange(`dqtest-outage:${failing.queueName}.XQ`, 0, -1);
      expect(dead).toHaveLength(1);
    } finally {
      await worker.stop({ timeout: 5000 });
      await broker.flushAll().catch(() => undefined);
      await broker.close();
    }
  }, 90_000);
});
