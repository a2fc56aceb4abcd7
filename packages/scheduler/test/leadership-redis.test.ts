import { expect, it } from "@jest/globals";
import { describeWithServer, uniqueQueueName } from "@dq/core/testing";
import { Redis } from "ioredis";
import { RedisSchedulerStore } from "../src/redis-store.js";
import { REDIS, REDIS_URL } from "./helpers.js";
import { expectEverySlotOnce, runLeadership } from "./leadership.js";

const LEASE = 3000;

describeWithServer("Redis", REDIS, () => {
  // The issue asks for two minutes: this test runs for 120 s.
  it("three schedulers for two minutes: every */5 s slot fired once, the SIGKILLed leader replaced within a lease", async () => {
    const namespace = uniqueQueueName("dqsched");
    const queue = uniqueQueueName("ticks");
    const prefix = uniqueQueueName("dq-scheduler");
    const client = new Redis(REDIS_URL);
    try {
      const run = await runLeadership(
        {
          TEST_BROKER_URL: REDIS_URL,
          TEST_NAMESPACE: namespace,
          TEST_QUEUE: queue,
          DQ_SCHEDULER_URL: REDIS_URL,
          DQ_SCHEDULER_PREFIX: prefix,
          DQ_SCHEDULER_LEASE_TTL: String(LEASE),
        },
        120_000,
        60_000,
        async () =>
          (await client.hvals(`${namespace}:${queue}.msgs`)).map(
            (data) =>
              (JSON.parse(data) as { options: { scheduled_at: string } }).options.scheduled_at,
          ),
      );
      // Figures for reports: DQ_TEST_FIGURES=1.
      if (process.env.DQ_TEST_FIGURES)
        process.stdout.write(
          `redis leadership: ${run.fired.length} slots fired, takeover ${run.takeoverMs} ms after SIGKILL (lease ${LEASE} ms)\n`,
        );
      expectEverySlotOnce(run);
      expect(run.fired.length).toBeGreaterThanOrEqual(22);
      // The lease expires at most LEASE after the kill; a follower tries every LEASE / 6.
      expect(run.takeoverMs).toBeLessThanOrEqual(LEASE + LEASE / 6 + 1500);
    } finally {
      const keys = await client.keys(`${namespace}:*`);
      if (keys.length) await client.del(...keys);
      await new RedisSchedulerStore({ client, prefix }).clear();
      await client.quit();
    }
  }, 200_000);
});
