/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are read loosely in tests */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { RedisBroker } from "@dq/broker-redis";
import { actor, Message, Worker } from "@dq/core";
import {
  addressFromUrl,
  describeWithServer,
  loadWireFixture,
  restoreRedisRecording,
  uniqueQueueName,
  waitFor,
  type RecordedRedisKey,
} from "@dq/core/testing";
import { Redis } from "ioredis";
import { createDashboard, type DashboardHandler } from "../../src/index.js";
import { Client, fakeUiDirectory, serve } from "./helpers/server.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Deletes every key of a test namespace (SCAN, bounded by the test's own keys). */
async function dropNamespace(redis: Redis, namespace: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${namespace}:*`, "COUNT", 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

describeWithServer("Redis", addressFromUrl(REDIS_URL, 6379), () => {
  describe("the JSON API on Redis", () => {
    const namespace = uniqueQueueName("dqdash");
    const queue = "work";
    let broker: RedisBroker;
    let redis: Redis;
    let dashboard: DashboardHandler;
    let server: Awaited<ReturnType<typeof serve>>;
    let client: Client;
    const sent: Message[] = [];

    beforeAll(async () => {
      redis = new Redis(REDIS_URL);
      broker = new RedisBroker({ url: REDIS_URL, namespace });
      const explode = actor(
        (kind: string) => {
          throw new Error(`bad ${kind}`);
        },
        { broker, queueName: queue, actorName: "explode", maxRetries: 0 },
      );
      const add = actor((x: number, y: number) => x + y, {
        broker,
        queueName: queue,
        actorName: "add",
      });
      // One dead letter, made by a real worker.
      const worker = new Worker(broker, { workerTimeout: 100 });
      await worker.start();
      await explode.send("<img src=x onerror=alert(1)></script>");
      await waitFor(
        async () => (await broker.getQueueMessageCounts(queue)).deadLettered === 1,
        "the failed message dead-lettered",
        20_000,
      );
      await worker.stop({ timeout: 5000 });
      // Ready messages (no worker running), one delayed.
      for (let i = 0; i < 5; i++) sent.push(await add.send(i, 100));
      await add.sendWithOptions({ args: [7, 7], delay: 3_600_000 });
      // Python Dramatiq's own dead letter, written raw from the recording.
      const recording = loadWireFixture<{ keys: Record<string, RecordedRedisKey> }>(
        "redis-after-worker.json",
      );
      const xq = Object.fromEntries(
        Object.entries(recording.keys).filter(([key]) => key.startsWith("dqfixtures:fx.XQ")),
      );
      await restoreRedisRecording(redis, xq, namespace);
      dashboard = createDashboard({ brokers: [broker], uiDirectory: fakeUiDirectory() });
      server = await serve(dashboard);
      client = new Client(`${server.url}/`);
      await client.session();
    }, 60_000);

    afterAll(async () => {
      await server?.close();
      await dashboard?.close();
      await broker?.close();
      await dropNamespace(redis, namespace);
      redis.disconnect();
    });

    it("shows every queue's counts in the overview, with rates and workers", async () => {
      const { status, body } = await client.json("api/overview");
      expect(status).toBe(200);
      const work = body.queues.find((q: any) => q.queue === queue);
      expect(work).toEqual({ broker: "redis", queue, ready: 5, delayed: 1, inFlight: 0, dead: 1 });
      const fx = body.queues.find((q: any) => q.queue === "fx");
      expect(fx).toMatchObject({ broker: "redis", dead: 1 });
      expect(body.rates).toHaveLength(1);
      expect(body.rates[0].processed).toHaveLength(30);
      expect(body.rates[0].failed).toHaveLength(30);
      // The worker's dead letter counts in the current minute or the one before.
      const failed = body.rates[0].failed.slice(-2).reduce((n: number, p: any) => n + p.n, 0);
      expect(failed).toBeGreaterThanOrEqual(1);
      expect(body.workers.alive).toBeGreaterThanOrEqual(0);
      expect(body.at).toEqual(expect.any(Number));
    });

    it("pages a queue's ready messages oldest or newest first", async () => {
      const oldest = await client.json(
        `api/queues/redis/${queue}/messages?state=ready&limit=2&page=0`,
      );
      expect(oldest.status).toBe(200);
      expect(oldest.body.total).toBe(5);
      expect(oldest.body.messages.map((m: any) => m.argsPreview)).toEqual(["[0,100]", "[1,100]"]);
      const second = await client.json(
        `api/queues/redis/${queue}/messages?state=ready&limit=2&page=2`,
      );
      expect(second.body.messages.map((m: any) => m.argsPreview)).toEqual(["[4,100]"]);
      const newest = await client.json(
        `api/queues/redis/${queue}/messages?state=ready&order=newest&limit=2&page=0`,
      );
      expect(newest.body.messages.map((m: any) => m.argsPreview)).toEqual(["[4,100]", "[3,100]"]);
      const first = oldest.body.messages[0];
      expect(first).toMatchObject({
        actor: "add",
        queue,
        state: "ready",
        retries: 0,
        messageId: sent[0]!.messageId,
        enqueuedAt: sent[0]!.messageTimestamp,
      });
    });

    it("lists delayed messages with their eta and dead letters with when they failed", async () => {
      const delayed = await client.json(`api/queues/redis/${queue}/messages?state=delayed`);
      expect(delayed.body.total).toBe(1);
      expect(delayed.body.messages[0].eta).toBeGreaterThan(Date.now() + 3_000_000);
      const dead = await client.json(`api/queues/redis/${queue}/messages?state=dead`);
      expect(dead.body.total).toBe(1);
      expect(dead.body.messages[0]).toMatchObject({ actor: "explode", state: "dead" });
      expect(dead.body.messages[0].failedAt).toBeGreaterThan(Date.now() - 120_000);
      // The payload is data: returned verbatim as text, never interpreted.
      expect(dead.body.messages[0].argsPreview).toBe('["<img src=x onerror=alert(1)></script>"]');
    });

    it("shows a Python Dramatiq dead letter with its args, retries and traceback decoded", async () => {
      const dead = await client.json(`api/queues/redis/fx/messages?state=dead`);
      expect(dead.body.messages).toHaveLength(1);
      const summary = dead.body.messages[0];
      expect(summary).toMatchObject({
        id: "d75b76df-de29-4f97-aff6-fa455604e08d",
        messageId: "a49031bb-f1c5-4f3b-b987-897b0cae9ab4",
        actor: "explode",
        argsPreview: '["input"]',
        retries: 1,
        failedAt: 1795239291455,
      });
      const { status, body } = await client.json(`api/messages/redis/fx/${summary.id}`);
      expect(status).toBe(200);
      expect(body.state).toBe("dead");
      expect(body.message).toMatchObject({
        queue_name: "fx",
        actor_name: "explode",
        args: ["input"],
        kwargs: {},
        message_id: "a49031bb-f1c5-4f3b-b987-897b0cae9ab4",
      });
      expect(body.retries).toBe(1);
      expect(body.traceback).toContain("ValueError: bad input");
      expect(JSON.parse(body.raw)).toEqual(body.message);
    });

    it("finds messages by id, by actor and by text in their args (bounded)", async () => {
      const byId = await client.json(`api/search?q=${sent[2]!.messageId}&field=id`);
      expect(byId.status).toBe(200);
      expect(byId.body.results.map((m: any) => m.messageId)).toEqual([sent[2]!.messageId]);
      const byActor = await client.json(`api/search?q=explode&field=actor`);
      expect(byActor.body.results.map((m: any) => m.queue).sort()).toEqual(["fx", queue]);
      const byArgs = await client.json(
        `api/search?q=onerror&field=args&broker=redis&queue=${queue}`,
      );
      expect(byArgs.body.results).toHaveLength(1);
      expect(byArgs.body.scanned).toBeGreaterThanOrEqual(1);
      expect(byArgs.body.truncated).toBe(false);
    });

    it("lists a Python worker from its heartbeat and ack sets (what Python writes)", async () => {
      // Python's RedisBroker writes its id in __heartbeats__ and holds fetched ids in
      // __acks__.<id>.<queue>: nothing else (no host, no pid).
      const pythonId = "814ce391-8fbd-447e-a0e0-adc32a5e60c2";
      await redis.zadd(`${namespace}:__heartbeats__`, Date.now(), pythonId);
      await redis.sadd(`${namespace}:__acks__.${pythonId}.fx`, "held-1", "held-2");
      try {
        const { body } = await client.json("api/workers");
        expect(body.workers).toContainEqual({
          broker: "redis",
          id: pythonId,
          queues: ["fx"],
          inProgress: 2,
          lastSeen: expect.any(Number),
          alive: true,
        });
        expect((await client.json("api/overview")).body.workers.alive).toBeGreaterThanOrEqual(1);
      } finally {
        await redis.zrem(`${namespace}:__heartbeats__`, pythonId);
        await redis.del(`${namespace}:__acks__.${pythonId}.fx`);
      }
    });

    it("answers bad parameters with 400 or 404 and a message, never a stack trace", async () => {
      const cases: [string, number][] = [
        [`api/queues/redis/${queue}/messages?page=-1`, 400],
        [`api/queues/redis/${queue}/messages?limit=10000`, 400],
        [`api/queues/redis/${queue}/messages?limit=abc`, 400],
        [`api/queues/redis/${queue}/messages?state=bogus`, 400],
        [`api/queues/redis/${queue}/messages?order=sideways`, 400],
        [`api/queues/redis/no-such-queue-${namespace}/messages`, 404],
        [`api/queues/nope/${queue}/messages`, 404],
        [`api/messages/redis/${queue}/not-an-id`, 404],
        [`api/search?field=args`, 400],
        [`api/search?q=x&field=nothing`, 400],
        [`api/queues/redis/%E0%A4%A/messages`, 400],
      ];
      for (const [path, status] of cases) {
        const response = await client.json(path);
        expect({ path, status: response.status }).toEqual({ path, status });
        expect(response.body.error.message).toEqual(expect.any(String));
        expect(JSON.stringify(response.body)).not.toMatch(/\n\s+at |\.ts:\d+/);
      }
    });

    it("re-enqueues a message with edited args under a new id", async () => {
      const dead = await client.json(`api/queues/redis/${queue}/messages?state=dead`);
      const id = dead.body.messages[0].id;
      const { status, body } = await client.post(`api/messages/redis/${queue}/${id}/requeue`, {
        args: ["edited"],
      });
      expect(status).toBe(200);
      const found = await client.json(`api/search?q=${body.id}&field=id&queue=${queue}`);
      expect(found.body.results).toHaveLength(1);
      expect(found.body.results[0]).toMatchObject({
        state: "ready",
        actor: "explode",
        argsPreview: '["edited"]',
      });
      const detail = await client.json(`api/messages/redis/${queue}/${found.body.results[0].id}`);
      expect(detail.body.traceback).toBeUndefined();
      expect(detail.body.retries).toBe(0);
      expect(
        (await client.post(`api/messages/redis/${queue}/${id}/requeue`, { args: "no" })).status,
      ).toBe(400);
    });

    it("retries a dead letter back to its queue, with the bytes Python wrote", async () => {
      const before = await redis.hget(
        `${namespace}:fx.XQ.msgs`,
        "d75b76df-de29-4f97-aff6-fa455604e08d",
      );
      const { status, body } = await client.post("api/queues/redis/fx/retry", {
        ids: ["d75b76df-de29-4f97-aff6-fa455604e08d", "unknown-id"],
      });
      expect(status).toBe(200);
      expect(body).toEqual({ retried: 1 });
      expect(await redis.lrange(`${namespace}:fx`, 0, -1)).toEqual([
        "d75b76df-de29-4f97-aff6-fa455604e08d",
      ]);
      expect(await redis.hget(`${namespace}:fx.msgs`, "d75b76df-de29-4f97-aff6-fa455604e08d")).toBe(
        before,
      );
      expect(await redis.zcard(`${namespace}:fx.XQ`)).toBe(0);
      expect((await client.post("api/queues/redis/fx/retry", { ids: [] })).status).toBe(400);
    });

    it("retries all dead letters", async () => {
      const { body } = await client.post(`api/queues/redis/${queue}/retry`, { all: true });
      expect(body).toEqual({ retried: 1 });
      const counts = await broker.getQueueMessageCounts(queue);
      expect(counts.deadLettered).toBe(0);
    });

    it("deletes one message", async () => {
      const page = await client.json(`api/queues/redis/${queue}/messages?state=ready&limit=1`);
      const id = page.body.messages[0].id;
      const before = page.body.total;
      expect(
        await client.post(`api/messages/redis/${queue}/${id}/delete`, { state: "ready" }),
      ).toEqual({
        status: 200,
        body: { deleted: true },
      });
      const after = await client.json(`api/queues/redis/${queue}/messages?state=ready&limit=1`);
      expect(after.body.total).toBe(before - 1);
      expect(
        (await client.post(`api/messages/redis/${queue}/${id}/delete`, { state: "ready" })).body,
      ).toEqual({
        deleted: false,
      });
      expect(
        (await client.post(`api/messages/redis/${queue}/${id}/delete`, { state: "x" })).status,
      ).toBe(400);
    });

    it("purges a queue only with the queue's name as confirmation", async () => {
      const refused = await client.post(`api/queues/redis/${queue}/purge`, { confirm: "other" });
      expect(refused.status).toBe(400);
      const { status, body } = await client.post(`api/queues/redis/${queue}/purge`, {
        confirm: queue,
      });
      expect(status).toBe(200);
      expect(body.purged).toBeGreaterThanOrEqual(6);
      const counts = await broker.getQueueMessageCounts(queue);
      expect(counts).toEqual({ ready: 0, inFlight: 0, delayed: 0, deadLettered: 0 });
    });
  });
});
