import { afterEach, expect, it } from "@jest/globals";
import { actor, StubBroker } from "@dq/core";
import { describeWithServer, FakeClock, uniqueQueueName, waitFor } from "@dq/core/testing";
import { Scheduler } from "../src/index.js";
import { RabbitmqSchedulerStore } from "../src/rabbitmq-store.js";
import { AMQP, AMQP_URL, Recorder } from "./helpers.js";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

function stores(count: number) {
  const prefix = uniqueQueueName("dq-scheduler-test");
  const made = Array.from(
    { length: count },
    () => new RabbitmqSchedulerStore({ url: AMQP_URL, prefix }),
  );
  cleanup.push(async () => {
    for (const store of made) await store.close();
    await new RabbitmqSchedulerStore({ url: AMQP_URL, prefix }).clear();
  });
  return made;
}

describeWithServer("RabbitMQ", AMQP, () => {
  it("leads through a single-active-consumer token, keeps state in the state queue, and hands both over", async () => {
    const [a, b, reader] = stores(3) as [
      RabbitmqSchedulerStore,
      RabbitmqSchedulerStore,
      RabbitmqSchedulerStore,
    ];
    await waitFor(async () => await a.lead(), "a leads");
    // A process that only reads (a dashboard) connects before b but never joins the election:
    // otherwise it would be next in line for the token, and b would never lead.
    expect((await reader.read(["x"])).get("x")).toEqual({});
    await b.lead();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await b.lead()).toBe(false);
    await a.write("x", { lastSlot: 5000, lastOutcome: "enqueued" });
    expect(await a.claim("x", 5000)).toBe(false);
    expect(await a.claim("x", 10_000)).toBe(true);
    // A process that does not lead reads the stored state and sends its changes to the leader.
    expect((await b.read(["x"])).get("x")).toMatchObject({ lastSlot: 5000 });
    await b.setPaused("x", true);
    await waitFor(
      async () => (await a.read(["x"])).get("x")?.paused === true,
      "the leader applies the pause",
    );
    await a.resign();
    await waitFor(async () => await b.lead(), "b takes over");
    expect((await b.read(["x"])).get("x")).toEqual({
      lastSlot: 5000,
      lastOutcome: "enqueued",
      paused: true,
    });
    expect(await b.claim("x", 5000)).toBe(false);
  }, 60_000);

  it("catches up after a 30 s stop from the state kept on RabbitMQ (misfire once)", async () => {
    const [first, second] = stores(2) as [RabbitmqSchedulerStore, RabbitmqSchedulerStore];
    const broker = new StubBroker();
    const recorder = new Recorder();
    broker.addMiddleware(recorder);
    actor(() => undefined, { actorName: "tick", broker });
    const clock = new FakeClock(Date.parse("2026-01-01T00:00:00.500Z"));
    const make = (store: RabbitmqSchedulerStore) =>
      new Scheduler({
        store,
        broker,
        clock,
        logger: quiet,
        useGlobalSchedules: false,
        misfireGraceMs: 1000,
      }).schedule("five", { cron: "*/5 * * * * *", actor: "tick", misfire: "once" });
    const advance = async (scheduler: Scheduler, ms: number) => {
      const target = clock.now() + ms;
      while (clock.now() < target) {
        await clock.advance(Math.min(250, target - clock.now()));
        await scheduler.settled();
      }
    };
    const one = make(first);
    await one.start();
    await waitFor(async () => {
      await advance(one, 250);
      return one.isLeader;
    }, "the first scheduler leads");
    await advance(one, 10_000 - (clock.now() - Date.parse("2026-01-01T00:00:00.500Z")));
    expect(recorder.slots("five").length).toBeGreaterThan(0);
    const before = recorder.slots("five");
    await one.stop();
    await clock.advance(30_000);
    const two = make(second);
    await two.start();
    await waitFor(async () => {
      await two.settled();
      return two.isLeader;
    }, "the second scheduler leads");
    await two.settled();
    const after = recorder.slots("five").slice(before.length);
    // One catch-up for the slots missed while stopped, then the slot that is on time.
    const seconds = after.map((slot) => new Date(slot).getUTCSeconds());
    expect(seconds.slice(0, 2)).toEqual([35, 40]);
    await two.stop();
    await broker.close();
  }, 60_000);
});
