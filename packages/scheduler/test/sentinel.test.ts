import { describe, expect, it } from "@jest/globals";
import { usePrivateSentinels, redisServerAvailable, waitFor } from "@dq/core/testing";
import { RedisSchedulerStore } from "../src/redis-store.js";

// Issue 24: the scheduler's Redis store takes the same connection description as dq's other Redis
// components (here ioredis's `sentinels` + `name`) and follows a failover.
const describeWithRedisServer = redisServerAvailable() ? describe : describe.skip;

describeWithRedisServer("RedisSchedulerStore with Redis Sentinel", () => {
  const sentinels = usePrivateSentinels();

  it("keeps leading and guarding slots after SENTINEL FAILOVER", async () => {
    const store = new RedisSchedulerStore({
      sentinels: sentinels().sentinels,
      name: sentinels().name,
    });
    try {
      expect(await store.lead("one", 60_000)).toBe(true);
      expect(await store.claim("every-5s", 1000)).toBe(true);
      expect(await store.claim("every-5s", 1000)).toBe(false);
      await sentinels().failover();
      // The first calls may meet the switch; then the store works on the new master.
      let claimed: boolean | undefined;
      await waitFor(
        async () => {
          try {
            claimed = await store.claim("every-5s", 2000);
            return true;
          } catch {
            return false;
          }
        },
        "a claim on the new master",
        30_000,
      );
      expect(claimed).toBe(true);
      expect(await store.claim("every-5s", 2000)).toBe(false);
      expect(await store.lead("one", 60_000)).toBe(true);
    } finally {
      await store.close();
    }
  }, 120_000);
});
