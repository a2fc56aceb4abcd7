import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { Redis } from "ioredis";
import {
  Barrier,
  BucketRateLimiter,
  ConcurrentRateLimiter,
  WindowRateLimiter,
} from "../src/index.js";
import { RedisRateLimiterBackend } from "../src/redis.js";
import { describeWithServer, ManualClock, REDIS_URL, uniqueKey } from "./helpers.js";

const fixturePath = join(__dirname, "../../../fixtures/dramatiq-wire/redis-rate-limits.json");

interface Snapshot {
  [key: string]: { type: string; value: string };
}

describeWithServer(
  "Redis",
  "Redis storage matches Python Dramatiq (redis-rate-limits.json)",
  () => {
    let redis: Redis;
    let backend: RedisRateLimiterBackend;
    const prefix = uniqueKey("dqfx");

    beforeAll(() => {
      redis = new Redis(REDIS_URL);
      backend = new RedisRateLimiterBackend({ url: REDIS_URL });
    });
    afterAll(async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await backend.close();
      await redis.quit();
    });

    async function snapshot(): Promise<Snapshot> {
      const result: Snapshot = {};
      for (const key of (await redis.keys(`${prefix}*`)).sort()) {
        const type = await redis.type(key);
        result[key.replace(prefix, "dqfx")] = {
          type,
          value:
            type === "string"
              ? ((await redis.get(key)) ?? "")
              : (await redis.lrange(key, 0, -1)).join(","),
        };
      }
      return result;
    }

    it("writes the same keys and values after the same operations", async () => {
      const fixture = JSON.parse(readFileSync(fixturePath, "utf8")) as {
        after: Snapshot;
        concurrent_while_held: Snapshot;
      };
      // The instant the fixture was recorded at, read back from its bucket and window keys.
      const windowKey = Object.keys(fixture.after).find((key) =>
        key.startsWith("dqfx-rl-window@"),
      )!;
      const clock = new ManualClock(Number(windowKey.split("@")[1]) * 1000 + 500);

      const concurrent = new ConcurrentRateLimiter(backend, `${prefix}-rl-concurrent`, {
        limit: 2,
      });
      let whileHeld: Snapshot = {};
      expect(await concurrent.acquire(async () => void (whileHeld = await snapshot()))).toBe(true);
      expect(whileHeld).toEqual(fixture.concurrent_while_held);

      expect(
        await new BucketRateLimiter(backend, `${prefix}-rl-bucket`, {
          limit: 5,
          bucket: 60_000,
          clock,
        }).acquire(() => undefined),
      ).toBe(true);
      expect(
        await new WindowRateLimiter(backend, `${prefix}-rl-window`, {
          limit: 5,
          window: 10,
          clock,
        }).acquire(() => undefined),
      ).toBe(true);
      const barrier = new Barrier(backend, `${prefix}-rl-barrier`);
      expect(await barrier.create(3)).toBe(true);
      expect(await barrier.wait({ block: false })).toBe(false);

      expect(await snapshot()).toEqual(fixture.after);
      // And the TTLs Dramatiq sets: bucket 60 s, window 10 s, concurrent and barrier 900 s.
      const ttl = (name: string) => redis.pttl(`${prefix}-rl-${name}`);
      expect(await ttl("concurrent")).toBeGreaterThan(890_000);
      expect(await ttl("barrier")).toBeGreaterThan(890_000);
      expect(await redis.pttl(`${prefix}-rl-${windowKey.replace("dqfx-rl-", "")}`)).toBeGreaterThan(
        9_000,
      );
    });

    it("continues what Python wrote: a barrier at 2 of 3 needs two more parties", async () => {
      const key = `${prefix}-from-python`;
      await redis.set(key, "2", "PX", 60_000);
      const barrier = new Barrier(backend, key);
      expect(await barrier.wait({ block: false })).toBe(false);
      expect(await redis.get(key)).toBe("1");
      expect(await barrier.wait({ block: false })).toBe(true);
      expect(await redis.lrange(`${key}@events`, 0, -1)).toEqual(["x"]);
    });
  },
);
