import { describe, expect, it } from "@jest/globals";
import { InvalidOptionError, RateLimitExceeded } from "@dq/core";
import {
  Barrier,
  BucketRateLimiter,
  ConcurrentRateLimiter,
  StubRateLimiterBackend,
  WindowRateLimiter,
} from "../src/index.js";
import { ManualClock } from "./helpers.js";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("ConcurrentRateLimiter", () => {
  it("admits at most `limit` holders at once and releases slots", async () => {
    const limiter = new ConcurrentRateLimiter(new StubRateLimiterBackend(), "c", { limit: 3 });
    let holders = 0;
    let most = 0;
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        limiter.acquire({ raiseOnFailure: false }, async () => {
          most = Math.max(most, ++holders);
          await tick();
          holders--;
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(3);
    expect(most).toBe(3);
    expect(await limiter.acquire(() => undefined)).toBe(true);
  });

  it("throws RateLimitExceeded naming the key when full, and does not run fn", async () => {
    const limiter = new ConcurrentRateLimiter(new StubRateLimiterBackend(), "mutex");
    let ran = 0;
    let inner: unknown;
    await limiter.acquire(async () => {
      inner = await limiter.acquire(() => ran++).catch((error: unknown) => error);
    });
    expect(RateLimitExceeded.isInstance(inner)).toBe(true);
    expect((inner as Error).message).toBe("rate limit exceeded for key 'mutex'");
    expect(ran).toBe(0);
  });

  it("releases the slot when fn throws", async () => {
    const backend = new StubRateLimiterBackend();
    const limiter = new ConcurrentRateLimiter(backend, "throws");
    await expect(limiter.acquire(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(backend.snapshot().get("throws")).toBe(0);
    expect(await limiter.acquire(() => undefined)).toBe(true);
  });
});

describe("BucketRateLimiter", () => {
  it("admits exactly `limit` per bucket, then again in the next bucket", async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const backend = new StubRateLimiterBackend({ clock });
    const limiter = new BucketRateLimiter(backend, "b", { limit: 5, bucket: 10_000, clock });
    const round = async () => {
      let ran = 0;
      for (let i = 0; i < 12; i++) await limiter.acquire({ raiseOnFailure: false }, () => ran++);
      return ran;
    };
    expect(await round()).toBe(5);
    clock.advance(9_999);
    expect(await round()).toBe(0);
    clock.advance(1);
    expect(await round()).toBe(5);
    expect([...backend.snapshot().keys()]).toEqual(["b@1700000010000"]);
  });
});

describe("WindowRateLimiter", () => {
  it("admits exactly `limit` over any `window` seconds", async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const backend = new StubRateLimiterBackend({ clock });
    const limiter = new WindowRateLimiter(backend, "w", { limit: 4, window: 3, clock });
    const tryOnce = () => limiter.acquire({ raiseOnFailure: false }, () => undefined);
    expect(await tryOnce()).toBe(true); // second 0: 1
    clock.advance(1000);
    expect(await tryOnce()).toBe(true); // second 1: 2
    expect(await tryOnce()).toBe(true); // 3
    clock.advance(1000);
    expect(await tryOnce()).toBe(true); // second 2: 4
    expect(await tryOnce()).toBe(false);
    clock.advance(1000); // second 3: second 0 left the window
    expect(await tryOnce()).toBe(true);
    expect(await tryOnce()).toBe(false);
    clock.advance(1000); // second 4: seconds 1 (2 slots) left
    expect(await tryOnce()).toBe(true);
    expect(await tryOnce()).toBe(true);
    expect(await tryOnce()).toBe(false);
    expect(backend.snapshot().get("w@1700000004")).toBe(2);
  });
});

describe("Barrier", () => {
  it("is cleared by the last of `parties` non-blocking waits, and stays cleared", async () => {
    const barrier = new Barrier(new StubRateLimiterBackend(), "barrier");
    expect(await barrier.create(3)).toBe(true);
    expect(await barrier.create(3)).toBe(false);
    expect(await barrier.wait({ block: false })).toBe(false);
    expect(await barrier.wait({ block: false })).toBe(false);
    expect(await barrier.wait({ block: false })).toBe(true);
    expect(await barrier.wait({ block: false })).toBe(true);
  });

  it("releases blocked parties as soon as the last one arrives, and times out otherwise", async () => {
    const barrier = new Barrier(new StubRateLimiterBackend(), "blocking");
    await barrier.create(3);
    const first = barrier.wait();
    const second = barrier.wait({ timeout: 10_000 });
    await tick();
    expect(await barrier.wait()).toBe(true);
    expect(await Promise.all([first, second])).toEqual([true, true]);
    const lonely = new Barrier(new StubRateLimiterBackend(), "lonely");
    await lonely.create(2);
    expect(await lonely.wait({ timeout: 50 })).toBe(false);
  });
});

describe("bad options", () => {
  const backend = new StubRateLimiterBackend();
  it.each([
    [
      "limit",
      () => new ConcurrentRateLimiter(backend, "k", { limit: 0 }),
      "limit must be an integer >= 1, got 0",
    ],
    [
      "ttl",
      () => new ConcurrentRateLimiter(backend, "k", { ttl: -5 }),
      "ttl must be an integer >= 1, got -5",
    ],
    [
      "bucket",
      () => new BucketRateLimiter(backend, "k", { bucket: 1.5 }),
      "bucket must be an integer >= 1, got 1.5",
    ],
    [
      "limit (string)",
      () => new BucketRateLimiter(backend, "k", { limit: "3" as unknown as number }),
      'limit must be an integer >= 1, got "3"',
    ],
    [
      "window",
      () => new WindowRateLimiter(backend, "k", { window: 0.5 }),
      "window must be an integer >= 1, got 0.5",
    ],
    ["window NaN", () => new WindowRateLimiter(backend, "k", { window: Number.NaN }), "got NaN"],
    [
      "barrier ttl",
      () => new Barrier(backend, "k", { ttl: 0 }),
      "ttl must be an integer >= 1, got 0",
    ],
    ["key", () => new ConcurrentRateLimiter(backend, ""), 'key must be a non-empty string, got ""'],
  ])("rejects a bad %s at construction with the value shown", (_name, build, text) => {
    expect(build).toThrow(InvalidOptionError);
    expect(build).toThrow(text);
  });

  it("rejects bad barrier parties", async () => {
    await expect(new Barrier(backend, "p").create(0)).rejects.toThrow(
      "parties must be an integer >= 1, got 0",
    );
  });
});
