import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Redis } from "ioredis";
import { ConnectionFailed, DecodeError, Message } from "@dq/core";
import { expectUnreachableResultBackend } from "@dq/test-suite";
import { addressFromUrl, describeWithServer, recordingLogger } from "@dq/core/testing";
import { RedisResultBackend } from "../src/index.js";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

const newMessage = () => new Message({ queueName: "dqtest", actorName: "add", args: [1, 2] });

describe("RedisResultBackend without a server", () => {
  it("fails quickly with ConnectionFailed instead of hanging", async () => {
    // Port 1 on loopback refuses connections.
    const backend = new RedisResultBackend({
      url: "redis://127.0.0.1:1",
      logger: recordingLogger(),
    });
    try {
      await expectUnreachableResultBackend(backend, "127.0.0.1:1");
      await expect(backend.getResult(newMessage())).rejects.toBeInstanceOf(ConnectionFailed);
    } finally {
      await backend.close();
    }
  });
});

describeWithServer("Redis", addressFromUrl(url, 6379), () => {
  describe("RedisResultBackend on Redis", () => {
    let redis: Redis;
    const namespace = `dqtest-results-${randomBytes(6).toString("hex")}`;
    const keys: string[] = [];

    beforeAll(() => {
      redis = new Redis(url);
    });

    afterAll(async () => {
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    });

    async function withBackend(
      body: (backend: RedisResultBackend) => Promise<void>,
      options: ConstructorParameters<typeof RedisResultBackend>[0] = {},
    ) {
      const backend = new RedisResultBackend({ url, namespace, ...options });
      try {
        await body(backend);
      } finally {
        await backend.close();
      }
    }

    const track = (backend: RedisResultBackend, message: Message) => {
      const key = backend.buildMessageKey(message);
      keys.push(key);
      return key;
    };

    it("stores a one-element list with the TTL in ms, and blocking reads leave it and its TTL in place", () =>
      withBackend(async (backend) => {
        const message = newMessage();
        const key = track(backend, message);
        await backend.storeResult(message, [1, "a"], 30_000);
        await backend.storeResult(message, { replaced: true }, 30_000);
        expect(await redis.type(key)).toBe("list");
        expect(await redis.lrange(key, 0, -1)).toEqual(['{"replaced":true}']);
        const ttl = await redis.pttl(key);
        expect(ttl).toBeGreaterThan(25_000);
        expect(ttl).toBeLessThanOrEqual(30_000);
        for (let i = 0; i < 3; i++)
          expect(await backend.getResult(message, { block: true, timeout: 5000 })).toEqual({
            replaced: true,
          });
        expect(await redis.lrange(key, 0, -1)).toEqual(['{"replaced":true}']);
        expect(await redis.pttl(key)).toBeGreaterThan(20_000);
      }));

    it("throws a DecodeError naming the key when the stored value does not decode", () =>
      withBackend(async (backend) => {
        const message = newMessage();
        const key = track(backend, message);
        await redis.lpush(key, "{not json");
        for (const options of [{}, { block: true, timeout: 5000 }]) {
          const error = await backend
            .getResult(message, options)
            .catch((caught: unknown) => caught);
          expect(DecodeError.isInstance(error)).toBe(true);
          expect((error as Error).message).toContain(key);
        }
      }));

    it("serves many concurrent blocking reads, each on its own connection", () =>
      withBackend(async (backend) => {
        const messages = Array.from({ length: 12 }, newMessage);
        for (const message of messages) track(backend, message);
        const reads = messages.map((message) =>
          backend.getResult(message, { block: true, timeout: 10_000 }),
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
        for (const [index, message] of [...messages.entries()].reverse())
          await backend.storeResult(message, index, 30_000);
        expect(await Promise.all(reads)).toEqual(messages.map((_, index) => index));
      }));

    it("uses a client passed in and leaves it open on close", async () => {
      const client = new Redis(url);
      try {
        await withBackend(
          async (backend) => {
            const message = newMessage();
            track(backend, message);
            await backend.storeResult(message, "via client", 30_000);
            expect(await backend.getResult(message, { block: true, timeout: 5000 })).toBe(
              "via client",
            );
          },
          { client },
        );
        expect(await client.ping()).toBe("PONG");
      } finally {
        client.disconnect();
      }
    });
  });
});
