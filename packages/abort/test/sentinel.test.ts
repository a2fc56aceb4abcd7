import { describe, expect, it } from "@jest/globals";
import { usePrivateSentinels, redisServerAvailable, waitFor } from "@dq/core/testing";
import { RedisAbortBackend } from "../src/index.js";

// Issue 24: the Redis abort backend takes the same connection description as dq's other Redis
// components (here ioredis's `sentinels` + `name`) and follows a failover.
const describeWithRedisServer = redisServerAvailable() ? describe : describe.skip;

describeWithRedisServer("RedisAbortBackend with Redis Sentinel", () => {
  const sentinels = usePrivateSentinels();

  it("writes and reads abort requests after SENTINEL FAILOVER", async () => {
    const backend = new RedisAbortBackend({
      sentinels: sentinels().sentinels,
      name: sentinels().name,
    });
    try {
      await backend.notify([{ key: "cancel:before", params: {} }], 60_000);
      expect(await backend.poll("cancel:before")).toEqual({ key: "cancel:before", params: {} });
      await sentinels().failover();
      // The first calls may meet the switch; then the backend works on the new master.
      await waitFor(
        async () => {
          try {
            await backend.notify([{ key: "cancel:after", params: {} }], 60_000);
            return true;
          } catch {
            return false;
          }
        },
        "a request written to the new master",
        30_000,
      );
      expect(await backend.pending("cancel:after")).toBe(true);
      expect(await backend.poll("cancel:after")).toEqual({ key: "cancel:after", params: {} });
    } finally {
      await backend.close();
    }
  }, 120_000);
});
