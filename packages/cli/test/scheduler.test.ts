// `dq --scheduler`: the supervisor runs one Scheduler for the modules' schedules next to the
// workers, and stops it with them.
import { afterEach, expect, it, jest } from "@jest/globals";
import { DqProcess, fixture, killAll } from "./helpers/dq-process.js";
import { describeWithRedis, redisUrl, TestRedis } from "./helpers/redis.js";

jest.setTimeout(90_000);

let redis: TestRedis | undefined;
afterEach(async () => {
  await killAll();
  await redis?.cleanUp();
  redis = undefined;
});

describeWithRedis("dq --scheduler", () => {
  it("runs the modules' schedules beside the workers and stops gracefully on TERM", async () => {
    redis = new TestRedis();
    const dq = new DqProcess(
      [`${fixture("scheduled-jobs.mjs")}:broker`, "-p", "1", "--scheduler"],
      {
        env: {
          DQ_TEST_NAMESPACE: redis.namespace,
          REDIS_URL: redisUrl,
          DQ_SCHEDULER_URL: redisUrl,
          DQ_SCHEDULER_PREFIX: `${redis.namespace}:scheduler`,
          DQ_SCHEDULER_LEASE_TTL: "3000",
        },
      },
    );
    await dq.waitFor(/is now the leader/, 30_000);
    const ticks = () => redis!.broker.client.llen(redis!.key("ticks"));
    await redis.until(async () => (await ticks()) >= 3, "three scheduled runs", 30_000);
    // The workers ran them (the scheduler only enqueues).
    const pids = new Set(await redis.broker.client.lrange(redis.key("ticks"), 0, -1));
    expect([...pids]).toEqual(dq.bootedWorkers().map((worker) => String(worker.pid)));
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
    expect(dq.output).toContain("stopped and resigned leadership");
    expect(await redis.broker.client.exists(`${redis.namespace}:scheduler:lease`)).toBe(0);
  });
});
