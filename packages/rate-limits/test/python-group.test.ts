import { randomUUID } from "node:crypto";
import { afterEach, expect, it } from "@jest/globals";
import { Redis } from "ioredis";
import { actor, CurrentMessage, defaultMiddleware, Worker } from "@dq/core";
import { RedisBroker } from "@dq/broker-redis";
import {
  loadWireFixture,
  restoreRedisRecording,
  withEta,
  type RecordedRedisKey,
} from "@dq/core/testing";
import { GroupCallbacks } from "../src/index.js";
import { RedisRateLimiterBackend } from "../src/redis.js";
import { describeWithServer, REDIS_URL, uniqueKey } from "./helpers.js";

// The group that Python Dramatiq 2.2 enqueued in fixtures/dramatiq-wire/redis-enqueued.json: three
// `add` children carrying group_completion_uuid / group_completion_callbacks (a `done` message).
// This test lives here rather than in @dq/broker-redis because rate-limits already has broker-redis
// as a devDependency (for the worker-process tests); the reverse would be a workspace cycle.
const RECORDED_GROUP = "c8fe8a4d-7e0a-45a9-b311-15386d3d50cf";
const RECORDED_CALLBACK = "2a096ae9-568e-48f2-ae66-41cb76e9f2e3";
// Python's GroupCallbacks default barrier_ttl.
const PYTHON_BARRIER_TTL = 86_400_000;

interface Recording {
  keys: Record<string, RecordedRedisKey>;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describeWithServer("Redis", "a group enqueued by Python Dramatiq, finished by dq workers", () => {
  it("fires the recorded group's completion callback once, after its three children", async () => {
    const recording = loadWireFixture<Recording>("redis-enqueued.json");
    const namespace = uniqueKey("dqrlpy");
    // A fresh uuid in place of the recorded one, so that parallel runs never share a barrier; the
    // rest of every message stays byte for byte.
    const groupId = randomUUID();
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    cleanups.push(async () => {
      const keys = await redis.keys(`${namespace}:*`);
      await redis.del(...keys, groupId, `${groupId}@events`);
      await redis.quit();
    });

    const backend = new RedisRateLimiterBackend({ url: REDIS_URL });
    const broker = new RedisBroker({
      url: REDIS_URL,
      namespace,
      logger: quiet,
      middleware: [...defaultMiddleware(), new CurrentMessage(), new GroupCallbacks(backend)],
    });
    const runs: { actorName: string; messageId: string; args: unknown[] }[] = [];
    const record = (actorName: string) => {
      const message = CurrentMessage.getCurrentMessage()!;
      runs.push({ actorName, messageId: message.messageId, args: [...message.args] });
    };
    actor(
      function add(x: number, y: number | { y: number }) {
        record("add");
        return x + (typeof y === "object" ? y.y : y);
      },
      { broker, queueName: "fx", maxRetries: 0 },
    );
    actor(
      function done(..._args: unknown[]) {
        record("done");
      },
      { broker, queueName: "fx", maxRetries: 0 },
    );
    const worker = new Worker(broker, { workerTimeout: 50 });
    cleanups.unshift(async () => {
      await worker.stop({ timeout: 5000 });
      await broker.close();
      await backend.close();
    });

    // What Python's group.run() did with GroupCallbacks on a Redis rate-limiter backend:
    // Barrier.create(3) = SET <uuid> 3 PX <barrier_ttl> NX (semantics §1.15, §3.5).
    expect(await redis.set(groupId, "3", "PX", PYTHON_BARRIER_TTL, "NX")).toBe("OK");
    const dueAt = Date.now() + 200;
    // The delayed message comes due now; the group children get the fresh uuid.
    await restoreRedisRecording(redis, recording.keys, namespace, (key, data) =>
      key.endsWith(".DQ.msgs") ? withEta(data, dueAt) : data.replaceAll(RECORDED_GROUP, groupId),
    );
    expect(await redis.hlen(`${namespace}:fx.msgs`)).toBeGreaterThan(0);

    await worker.start();
    const deadline = Date.now() + 20_000;
    const groupDone = () => runs.filter((run) => run.messageId === RECORDED_CALLBACK);
    while (groupDone().length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    await broker.join("fx", { timeout: 10_000 });

    const callbacks = groupDone();
    expect(callbacks).toHaveLength(1);
    expect(callbacks[0]!.actorName).toBe("done");
    expect(callbacks[0]!.args).toEqual(["group-finished"]);
    // It ran after all three children (the recorded group is add(0,0), add(1,1), add(2,2)).
    const children = [
      "66abb499-89d4-4fae-9cd2-082ea5d0766d",
      "592a9305-e350-4367-a18c-ac3bac6b3687",
      "b970d7a7-c77e-4f25-a25b-15890c7013ff",
    ];
    const childIndexes = children.map((id) => runs.findIndex((run) => run.messageId === id));
    for (const index of childIndexes) expect(index).toBeGreaterThanOrEqual(0);
    expect(runs.indexOf(callbacks[0]!)).toBeGreaterThan(Math.max(...childIndexes));
    // The barrier's storage ends as Python's would: counter left at 1, one event pushed.
    expect(await redis.get(groupId)).toBe("1");
    expect(await redis.lrange(`${groupId}@events`, 0, -1)).toEqual(["x"]);
  });
});
