/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are read loosely in tests */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { RedisBroker } from "@dq/broker-redis";
import {
  addressFromUrl,
  describeWithServer,
  loadWireFixture,
  restoreRedisRecording,
  uniqueQueueName,
  type RecordedRedisKey,
} from "@dq/core/testing";
import { Redis } from "ioredis";
import { createDashboard, type DashboardHandler } from "../../src/index.js";
import { Client, fakeUiDirectory, serve } from "./helpers/server.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describeWithServer("Redis", addressFromUrl(REDIS_URL, 6379), () => {
  describe("what Python Dramatiq enqueued (recorded), as the dashboard shows it", () => {
    const namespace = uniqueQueueName("dqdashpy");
    const recording = loadWireFixture<{ keys: Record<string, RecordedRedisKey> }>(
      "redis-enqueued.json",
    );
    let redis: Redis;
    let broker: RedisBroker;
    let dashboard: DashboardHandler;
    let server: Awaited<ReturnType<typeof serve>>;
    let client: Client;

    beforeAll(async () => {
      redis = new Redis(REDIS_URL);
      await restoreRedisRecording(redis, recording.keys, namespace);
      broker = new RedisBroker({ url: REDIS_URL, namespace });
      dashboard = createDashboard({ brokers: [broker], uiDirectory: fakeUiDirectory() });
      server = await serve(dashboard);
      client = new Client(`${server.url}/`);
    });

    afterAll(async () => {
      await server.close();
      await dashboard.close();
      await broker.close();
      await redis.del(
        ...Object.keys(recording.keys).map((key) => key.replace(/^dqfixtures:/, `${namespace}:`)),
      );
      redis.disconnect();
    });

    it("counts and lists the queue Python wrote, without any declaration on this side", async () => {
      const { body } = await client.json("api/overview");
      expect(body.queues).toEqual([
        { broker: "redis", queue: "fx", ready: 6, delayed: 1, inFlight: 0, dead: 0 },
      ]);
      const page = await client.json("api/queues/redis/fx/messages?limit=10");
      expect(page.body.messages.map((m: any) => [m.actor, m.argsPreview])).toEqual([
        ["add", "[1,2]"],
        ["add", '[[1],{"y":5}]'],
        ["add", "[1,1]"],
        ["add", "[0,0]"],
        ["add", "[1,1]"],
        ["add", "[2,2]"],
      ]);
      const delayed = await client.json("api/queues/redis/fx/messages?state=delayed");
      expect(delayed.body.messages[0]).toMatchObject({
        messageId: "ebac80cf-1e5e-43db-8388-890991ff6c2d",
        eta: 1795239351401,
      });
    });

    it("shows kwargs and custom options, pipeline and group membership", async () => {
      const kwargs = await client.json(
        "api/messages/redis/fx/621031df-3d43-4a16-8527-fc23bdc7c1dd",
      );
      expect(kwargs.body.message).toMatchObject({
        args: [1],
        kwargs: { y: 5 },
        options: { on_success: "done", custom_option: "kept" },
      });
      const pipeline = await client.json(
        "api/messages/redis/fx/b1d134b3-b43a-4f97-9ed4-9024d66d4a47",
      );
      expect(pipeline.body.pipeline).toEqual({ step: 1, of: 3, next: ["add", "add"] });
      const group = await client.json("api/messages/redis/fx/8bd6d09c-ad78-4d97-bd6b-8aa069e8a1e8");
      expect(group.body.group).toEqual({ id: "c8fe8a4d-7e0a-45a9-b311-15386d3d50cf" });
    });

    it("finds a Python message by its Dramatiq message id", async () => {
      const found = await client.json("api/search?q=5f29f600-6293-4d6d-8439-7a1c43ed2d99&field=id");
      expect(found.body.results).toEqual([
        expect.objectContaining({
          id: "9b0ca824-be28-4a27-bc6b-5d0f003aacf7",
          queue: "fx",
          argsPreview: "[1,2]",
        }),
      ]);
    });
  });
});
