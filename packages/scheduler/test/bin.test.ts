import { expect, it } from "@jest/globals";
import { describeWithServer, uniqueQueueName } from "@dq/core/testing";
import { storeFromEnv } from "../src/index.js";
import { REDIS, REDIS_URL } from "./helpers.js";
import { fixture, SchedulerProcess } from "./scheduler-process.js";

describeWithServer("Redis", REDIS, () => {
  it("dq-scheduler exits 2 at start, naming the schedule, when its actor is unknown", async () => {
    const run = new SchedulerProcess([fixture("schedules.mjs")], {
      TEST_BROKER_URL: REDIS_URL,
      TEST_NAMESPACE: uniqueQueueName("dqsched"),
      TEST_QUEUE: "ticks",
      TEST_UNKNOWN_ACTOR: "1",
      DQ_SCHEDULER_URL: REDIS_URL,
      DQ_SCHEDULER_PREFIX: uniqueQueueName("dq-scheduler"),
    });
    expect((await run.exited).code).toBe(2);
    expect(run.output).toContain('"ghost" → "ghost_actor"');
    expect(run.ledAt).toEqual([]);
  }, 30_000);
});

it("dq-scheduler without a module exits 2 with usage help", async () => {
  const run = new SchedulerProcess([], {});
  expect((await run.exited).code).toBe(2);
  expect(run.output).toContain("expected at least one module");
}, 30_000);

it("storeFromEnv names a URL that is neither Redis nor RabbitMQ, without its password", async () => {
  await expect(
    storeFromEnv({ DQ_SCHEDULER_URL: "memcached://user:secret@host:11211" }),
  ).rejects.toThrow(/must start with redis:\/\/.*"memcached:\/\/\*\*\*@host:11211"/);
  await expect(storeFromEnv({})).rejects.toThrow(/set DQ_SCHEDULER_URL/);
});
