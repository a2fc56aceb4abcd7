import { afterEach, beforeEach, expect, it } from "@jest/globals";
import { ConnectionError } from "@dq/core";
import { PrivateRedis } from "@dq/core/testing";
import { RedisRateLimiterBackend } from "../src/redis.js";
import { describeWithServer, uniqueKey } from "./helpers.js";

// Issue 17 item 6: a paused Redis (SIGSTOP: the connection stays open, nothing answers) hung calls.
describeWithServer("Redis", "RedisRateLimiterBackend command timeout", () => {
  let server: PrivateRedis;

  beforeEach(async () => {
    server = await PrivateRedis.start();
  }, 30_000);

  afterEach(async () => {
    await server.destroy();
  });

  it("fails a call on a paused Redis with ConnectionError within the timeout, while a wait may block longer", async () => {
    const backend = new RedisRateLimiterBackend({ url: server.url, commandTimeout: 1000 });
    try {
      const key = uniqueKey();
      expect(await backend.add(key, 1, 60_000)).toBe(true);
      // A blocking wait is not cut short by the command timeout.
      const started = Date.now();
      expect(await backend.wait(uniqueKey(), 1500)).toBe(false);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
      server.pause();
      const paused = Date.now();
      const error = await backend.incr(key, 1, 10, 60_000).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(ConnectionError.isInstance(error)).toBe(true);
      expect(Date.now() - paused).toBeLessThan(4000);
    } finally {
      server.resume();
      await backend.close();
    }
  }, 30_000);

  it("times commands out after 5 s by default", async () => {
    const backend = new RedisRateLimiterBackend({ url: server.url });
    try {
      expect(backend.client.options.commandTimeout).toBe(5000);
    } finally {
      await backend.close();
    }
  });
});
