import { afterEach, expect, it } from "@jest/globals";
import { actor, StubBroker, Worker } from "@dq/core";
import { describeWithServer, FakeClock, uniqueQueueName } from "@dq/core/testing";
import { Scheduler, SchedulerOutcomes } from "../src/index.js";
import { RedisSchedulerStore } from "../src/redis-store.js";
import { REDIS, REDIS_URL } from "./helpers.js";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanups) await step();
  cleanups = [];
});

describeWithServer("Redis", REDIS, () => {
  it("records the outcome of scheduled messages that workers ran", async () => {
    const prefix = uniqueQueueName("dq-scheduler-test");
    const store = new RedisSchedulerStore({ url: REDIS_URL, prefix });
    const broker = new StubBroker();
    broker.addMiddleware(new SchedulerOutcomes(store));
    let fail = false;
    const queueName = uniqueQueueName("outcomes");
    actor(
      () => {
        if (fail) throw new Error("boom");
      },
      { actorName: "job", broker, queueName, maxRetries: 0 },
    );
    const clock = new FakeClock(Date.parse("2026-01-01T00:00:00.500Z"));
    const scheduler = new Scheduler({
      store,
      broker,
      clock,
      logger: quiet,
      useGlobalSchedules: false,
    });
    scheduler.schedule("s", { everyMs: 1000, actor: "job" });
    const worker = new Worker(broker, { workerTimeout: 20 });
    cleanups.push(async () => {
      await worker.stop({ timeout: 5000 });
      await scheduler.stop();
      await store.clear();
      await store.close();
      await broker.close();
    });
    await worker.start();
    await scheduler.start();
    const fireOne = async () => {
      await clock.advance(1000);
      await scheduler.settled();
      await broker.join(queueName, { timeout: 10_000, failFast: false });
      // The outcome is written after processing, as the message is settled.
      await new Promise((resolve) => setTimeout(resolve, 100));
    };
    await fireOne();
    expect((await scheduler.list())[0]!.lastOutcome).toBe("succeeded");
    fail = true;
    await fireOne();
    expect((await scheduler.list())[0]!.lastOutcome).toBe("failed: boom");
  }, 30_000);
});
