import { describe, expect, it } from "@jest/globals";
import { usePrivateSentinels, redisServerAvailable, uniqueQueueName } from "@dq/core/testing";
import { ConcurrentRateLimiter } from "../src/index.js";
import { RedisRateLimiterBackend } from "../src/redis.js";

// Issue 24: the Redis rate-limiter backend given sentinels follows a failover (a private master,
// replica and three sentinels; the shared server is never touched).
const describeWithRedisServer = redisServerAvailable() ? describe : describe.skip;

describeWithRedisServer("RedisRateLimiterBackend with Redis Sentinel", () => {
  const sentinels = usePrivateSentinels();

  it("keeps limiting after SENTINEL FAILOVER", async () => {
    const backend = new RedisRateLimiterBackend({
      sentinels: sentinels().sentinels,
      name: sentinels().name,
    });
    const mutex = new ConcurrentRateLimiter(backend, uniqueQueueName("sentinel-mutex"), {
      limit: 1,
    });
    try {
      let ran = 0;
      expect(await mutex.acquire({ raiseOnFailure: false }, () => ran++)).toBe(true);
      const newMaster = await sentinels().failover();
      expect(newMaster).not.toBe(sentinels().master.port);
      // The first calls may meet the switch (a ConnectionError); within a few seconds every call works.
      const deadline = Date.now() + 20_000;
      let working = 0;
      while (working < 20) {
        try {
          await mutex.acquire({ raiseOnFailure: false }, () => ran++);
          working++;
        } catch (error) {
          working = 0;
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      // Still a mutex: a second acquire inside the first is refused.
      let inner: boolean | undefined;
      await mutex.acquire({ raiseOnFailure: false }, async () => {
        inner = await mutex.acquire({ raiseOnFailure: false }, () => ran++);
      });
      expect(inner).toBe(false);
    } finally {
      await backend.close();
    }
  }, 120_000);
});
