import { afterEach, describe, expect, it } from "@jest/globals";
import { ConnectionError } from "@dq/core";
import {
  Barrier,
  BucketRateLimiter,
  ConcurrentRateLimiter,
  WindowRateLimiter,
  type RateLimiterBackend,
} from "../src/index.js";
import { MemcachedRateLimiterBackend } from "../src/memcached.js";
import { RedisRateLimiterBackend } from "../src/redis.js";
import {
  describeWithServer,
  ManualClock,
  MEMCACHED_SERVERS,
  REDIS_URL,
  uniqueKey,
} from "./helpers.js";

const backends: RateLimiterBackend[] = [];
afterEach(async () => {
  for (const backend of backends.splice(0)) await backend.close();
});
function open<B extends RateLimiterBackend>(backend: B): B {
  backends.push(backend);
  return backend;
}

const servers = [
  ["Redis", () => open(new RedisRateLimiterBackend({ url: REDIS_URL }))],
  ["Memcached", () => open(new MemcachedRateLimiterBackend({ servers: MEMCACHED_SERVERS }))],
] as const;

for (const [server, backend] of servers) {
  describeWithServer(server, `limits on ${server}`, () => {
    it("a bucket limiter admits exactly `limit` per bucket", async () => {
      const clock = new ManualClock(Math.floor(Date.now() / 60_000) * 60_000);
      const limiter = new BucketRateLimiter(backend(), uniqueKey(), {
        limit: 4,
        bucket: 60_000,
        clock,
      });
      const round = async () =>
        (
          await Promise.all(
            Array.from({ length: 10 }, () =>
              limiter.acquire({ raiseOnFailure: false }, () => undefined),
            ),
          )
        ).filter(Boolean).length;
      expect(await round()).toBe(4);
      clock.advance(59_999);
      expect(await round()).toBe(0);
      clock.advance(1);
      expect(await round()).toBe(4);
    });

    it("a window limiter admits exactly `limit` over the window", async () => {
      const clock = new ManualClock(Date.now());
      const limiter = new WindowRateLimiter(backend(), uniqueKey(), { limit: 3, window: 2, clock });
      const round = async () =>
        (
          await Promise.all(
            Array.from({ length: 8 }, () =>
              limiter.acquire({ raiseOnFailure: false }, () => undefined),
            ),
          )
        ).filter(Boolean).length;
      expect(await round()).toBe(3);
      clock.advance(1000);
      expect(await round()).toBe(0);
      clock.advance(1000);
      expect(await round()).toBe(3);
    });

    it("a concurrent limiter frees the slot of a throwing fn", async () => {
      const limiter = new ConcurrentRateLimiter(backend(), uniqueKey(), { limit: 1, ttl: 10_000 });
      await expect(limiter.acquire(() => Promise.reject(new Error("boom")))).rejects.toThrow(
        "boom",
      );
      expect(await limiter.acquire(() => undefined)).toBe(true);
    });
  });
}

describeWithServer("Redis", "blocking barrier on Redis", () => {
  it("returns from a blocking wait as soon as the last party arrives", async () => {
    const key = uniqueKey();
    const barrier = new Barrier(open(new RedisRateLimiterBackend({ url: REDIS_URL })), key, {
      ttl: 10_000,
    });
    await barrier.create(3);
    const waits = [barrier.wait({ timeout: 20_000 }), barrier.wait()];
    let settled = false;
    void Promise.all(waits).then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toBe(false);
    const arrived = Date.now();
    expect(await barrier.wait()).toBe(true);
    expect(await Promise.all(waits)).toEqual([true, true]);
    expect(Date.now() - arrived).toBeLessThan(1000);
  });

  it("times out a blocking wait that nobody clears", async () => {
    const barrier = new Barrier(
      open(new RedisRateLimiterBackend({ url: REDIS_URL })),
      uniqueKey(),
      { ttl: 10_000 },
    );
    await barrier.create(2);
    expect(await barrier.wait({ timeout: 1000 })).toBe(false);
  });
});

describe("unreachable servers", () => {
  it("Redis: fails with ConnectionError naming the server instead of hanging", async () => {
    const limiter = new ConcurrentRateLimiter(
      open(new RedisRateLimiterBackend({ url: "redis://127.0.0.1:1" })),
      "k",
    );
    const error = await limiter.acquire(() => undefined).catch((e: unknown) => e);
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("could not reach Redis at redis://127.0.0.1:1");
  });

  it("Memcached: fails with ConnectionError naming the server instead of hanging", async () => {
    const limiter = new ConcurrentRateLimiter(
      open(new MemcachedRateLimiterBackend({ servers: "127.0.0.1:1" })),
      "k",
    );
    const error = await limiter.acquire(() => undefined).catch((e: unknown) => e);
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("could not reach Memcached at 127.0.0.1:1");
  });
});

describeWithServer("Memcached", "blocking barrier on Memcached", () => {
  it("refuses a blocking wait instead of hanging (Memcached cannot block)", async () => {
    const barrier = new Barrier(
      open(new MemcachedRateLimiterBackend({ servers: MEMCACHED_SERVERS })),
      uniqueKey(),
      { ttl: 5000 },
    );
    await barrier.create(2);
    await expect(barrier.wait({ timeout: 1000 })).rejects.toThrow(/cannot block/);
  });
});
