import { afterEach, describe, expect, it } from "@jest/globals";
import type { RateLimiterBackend } from "@dq/core/adapter";
import { uniqueQueueName } from "@dq/core/testing";

/**
 * The rate-limiter backend contract: `RateLimiterBackend` from `@dq/core/adapter` (which
 * `@dq/rate-limits` exports too), by the name this package has always given it.
 */
export type RateLimiterBackendLike = RateLimiterBackend;

/** What a rate-limiter backend's conformance run may skip. */
export interface RateLimiterBackendTestCapabilities {
  /** `wait` blocks until `waitNotify` (default true; Memcached cannot). */
  blocking?: boolean;
  /** A failed `incr` leaves the counter as it was (default true). */
  incrWritesNothingOnFailure?: boolean;
}

/** Builds a fresh backend; the suite closes it after each test. Called twice where a test needs two clients. */
export type RateLimiterBackendFactory = () =>
  RateLimiterBackendLike | Promise<RateLimiterBackendLike>;

/**
 * The rate-limiter backend contract as jest tests:
 * `defineRateLimiterBackendTests("RedisRateLimiterBackend", () => new RedisRateLimiterBackend({ url }))`.
 * Every key is unique to its test and lives at most a few seconds.
 */
export function defineRateLimiterBackendTests(
  name: string,
  factory: RateLimiterBackendFactory,
  capabilities: RateLimiterBackendTestCapabilities = {},
): void {
  const caps = { blocking: true, incrWritesNothingOnFailure: true, ...capabilities };
  const opened: RateLimiterBackendLike[] = [];
  const TTL = 10_000;

  async function backend(): Promise<RateLimiterBackendLike> {
    const created = await factory();
    opened.push(created);
    return created;
  }
  const key = () => uniqueQueueName("dqrl");

  describe(`${name}: rate-limiter backend contract`, () => {
    afterEach(async () => {
      for (const b of opened.splice(0)) await b.close();
    });

    it("adds a key only when it does not exist", async () => {
      const b = await backend();
      const k = key();
      expect(await b.add(k, 1, TTL)).toBe(true);
      expect(await b.add(k, 1, TTL)).toBe(false);
    });

    it("increments up to the maximum and no further", async () => {
      const b = await backend();
      const k = key();
      expect(await b.add(k, 1, TTL)).toBe(true);
      expect(await b.incr(k, 1, 3, TTL)).toBe(true);
      expect(await b.incr(k, 1, 3, TTL)).toBe(true);
      expect(await b.incr(k, 1, 3, TTL)).toBe(false);
      expect(await b.incr(k, 1, 3, TTL)).toBe(false);
      if (caps.incrWritesNothingOnFailure) {
        // Two failed increments must not have eaten the slot that one decrement frees.
        expect(await b.decr(k, 1, 0, TTL)).toBe(true);
        expect(await b.incr(k, 1, 3, TTL)).toBe(true);
        expect(await b.incr(k, 1, 3, TTL)).toBe(false);
      }
    });

    it("decrements down to the minimum and no further", async () => {
      const b = await backend();
      const k = key();
      expect(await b.add(k, 2, TTL)).toBe(true);
      expect(await b.decr(k, 1, 1, TTL)).toBe(true);
      expect(await b.decr(k, 1, 1, TTL)).toBe(false);
      expect(await b.decr(k, 1, 0, TTL)).toBe(true);
      expect(await b.add(k, 5, TTL)).toBe(false);
    });

    it("treats a missing key as 0 (a barrier decrement with minimum 1 fails)", async () => {
      const b = await backend();
      expect(await b.decr(key(), 1, 1, TTL)).toBe(false);
    });

    it("never lets concurrent increments from two clients cross the maximum", async () => {
      const [first, second] = [await backend(), await backend()];
      const k = key();
      await first.add(k, 0, TTL);
      const attempts = Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? first : second).incr(k, 1, 10, TTL),
      );
      const granted = (await Promise.all(attempts)).filter(Boolean).length;
      expect(granted).toBe(10);
    });

    it("increments and sums over a window of keys", async () => {
      const b = await backend();
      const base = key();
      const [older, current] = [`${base}@100`, `${base}@101`];
      const window = () => [current, older];
      expect(await b.add(older, 2, TTL)).toBe(true);
      expect(await b.incrAndSum(current, window, 1, 4, TTL)).toBe(true);
      expect(await b.incrAndSum(current, window, 1, 4, TTL)).toBe(true);
      expect(await b.incrAndSum(current, window, 1, 4, TTL)).toBe(false);
      // Without the older second the window has room again, and the failed attempt wrote nothing.
      expect(await b.incrAndSum(current, () => [current], 1, 4, TTL)).toBe(true);
      expect(await b.incrAndSum(current, () => [current], 1, 4, TTL)).toBe(true);
      expect(await b.incrAndSum(current, () => [current], 1, 4, TTL)).toBe(false);
    });

    it("never lets concurrent window increments from two clients cross the maximum", async () => {
      const [first, second] = [await backend(), await backend()];
      const k = key();
      const attempts = Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? first : second).incrAndSum(k, () => [k], 1, 7, TTL),
      );
      expect((await Promise.all(attempts)).filter(Boolean).length).toBe(7);
    });

    it("expires keys after their ttl", async () => {
      const b = await backend();
      const [k, s, kept] = [key(), key(), key()];
      expect(await b.add(k, 1, 1000)).toBe(true);
      await b.setValue(s, "gone", 1000);
      await b.setValue(kept, "old", 2000);
      // Extending the TTL by setting the same value keeps it past the first TTL (Memcached counts
      // whole seconds from a coarse clock, so a 1 s TTL may end at once).
      expect(await b.compareAndSet(kept, "old", "old", TTL)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 2600));
      expect(await b.add(k, 1, 1000)).toBe(true);
      expect(await b.getValue(s)).toBeUndefined();
      expect(await b.addValue(s, "again", 1000)).toBe(true);
      expect(await b.getValue(kept)).toBe("old");
    });

    it("stores, replaces and reads string values", async () => {
      const b = await backend();
      const k = key();
      expect(await b.getValue(k)).toBeUndefined();
      await b.setValue(k, "message-1", TTL);
      expect(await b.getValue(k)).toBe("message-1");
      await b.setValue(k, "message-2", TTL);
      expect(await b.getValue(k)).toBe("message-2");
    });

    it("adds a string value only when the key does not exist, one winner among two clients", async () => {
      const [first, second] = [await backend(), await backend()];
      const k = key();
      const attempts = Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? first : second).addValue(k, `owner-${i}`, TTL),
      );
      const won = (await Promise.all(attempts)).flatMap((added, i) => (added ? [i] : []));
      expect(won).toHaveLength(1);
      expect(await first.getValue(k)).toBe(`owner-${won[0]}`);
    });

    it("compares and sets: only over the expected value, never a missing key", async () => {
      const b = await backend();
      const k = key();
      expect(await b.compareAndSet(k, "a", "b", TTL)).toBe(false);
      expect(await b.getValue(k)).toBeUndefined();
      await b.setValue(k, "a", TTL);
      expect(await b.compareAndSet(k, "x", "b", TTL)).toBe(false);
      expect(await b.getValue(k)).toBe("a");
      expect(await b.compareAndSet(k, "a", "b", TTL)).toBe(true);
      expect(await b.getValue(k)).toBe("b");
    });

    it("compares and deletes: only the expected value, one winner among two clients", async () => {
      const [first, second] = [await backend(), await backend()];
      const k = key();
      expect(await first.compareAndDelete(k, "a")).toBe(false);
      await first.setValue(k, "a", TTL);
      expect(await first.compareAndDelete(k, "b")).toBe(false);
      expect(await second.getValue(k)).toBe("a");
      const attempts = Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? first : second).compareAndDelete(k, "a"),
      );
      expect((await Promise.all(attempts)).filter(Boolean)).toHaveLength(1);
      expect(await first.getValue(k)).toBeUndefined();
      expect(await second.addValue(k, "c", TTL)).toBe(true);
    });

    it("lets exactly one of many concurrent compare-and-sets over one value win", async () => {
      const [first, second] = [await backend(), await backend()];
      const k = key();
      await first.setValue(k, "start", TTL);
      const attempts = Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? first : second).compareAndSet(k, "start", `next-${i}`, TTL),
      );
      const won = (await Promise.all(attempts)).flatMap((set, i) => (set ? [i] : []));
      expect(won).toHaveLength(1);
      expect(await second.getValue(k)).toBe(`next-${won[0]}`);
    });

    if (caps.blocking) {
      it("times out a wait when nothing is published", async () => {
        const b = await backend();
        const started = Date.now();
        expect(await b.wait(key(), 1000)).toBe(false);
        expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      });

      it("wakes a blocked wait as soon as an event is published, and later waits see it", async () => {
        const [waiter, notifier] = [await backend(), await backend()];
        const k = key();
        const started = Date.now();
        const waiting = waiter.wait(k, 20_000);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await notifier.waitNotify(k, TTL);
        expect(await waiting).toBe(true);
        expect(Date.now() - started).toBeLessThan(5000);
        expect(await waiter.wait(k, 1000)).toBe(true);
      });

      it("does not make waits on different keys queue behind each other", async () => {
        const b = await backend();
        const [slow, fast] = [key(), key()];
        const slowWait = b.wait(slow, 3000);
        const fastWait = b.wait(fast, 10_000);
        await new Promise((resolve) => setTimeout(resolve, 200));
        const started = Date.now();
        await b.waitNotify(fast, TTL);
        expect(await fastWait).toBe(true);
        expect(Date.now() - started).toBeLessThan(2000);
        expect(await slowWait).toBe(false);
      });
    } else {
      it("refuses to block instead of hanging", async () => {
        const b = await backend();
        await expect(b.wait(key(), 1000)).rejects.toThrow(/cannot block/);
      });
    }
  });
}
