import { afterEach, expect, it } from "@jest/globals";
import { describeWithServer } from "@dq/core/testing";
import {
  DuplicateScheduleError,
  InvalidCronError,
  InvalidTimeZoneError,
  ScheduleActorNotFound,
  Scheduler,
  schedule,
  slotMessageId,
  UnknownScheduleError,
  type MisfirePolicy,
  type ScheduleInfo,
} from "../src/index.js";
import { RedisSchedulerStore } from "../src/redis-store.js";
import { REDIS, REDIS_URL, setup } from "./helpers.js";

let env: ReturnType<typeof setup> | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

describeWithServer("Redis", REDIS, () => {
  it("fires an everyMs schedule at each multiple, as ordinary messages with deterministic ids", async () => {
    env = setup("2026-01-01T00:00:00.100Z");
    const scheduler = env.make().schedule("every-2s", {
      everyMs: 2000,
      actor: "tick",
      args: [1, "two"],
      kwargs: { three: 3 },
      options: { maxRetries: 0 },
    });
    await scheduler.start();
    expect(scheduler.isLeader).toBe(true);
    await env.advance(6000);
    const slots = env.recorder.slots("every-2s");
    expect(slots).toEqual([
      "2026-01-01T00:00:02.000Z",
      "2026-01-01T00:00:04.000Z",
      "2026-01-01T00:00:06.000Z",
    ]);
    const { message } = env.recorder.sent[0]!;
    const slot = Date.parse(slots[0]!);
    expect(message.messageId).toBe(slotMessageId("every-2s", slot));
    expect(message.messageId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(slotMessageId("every-2s", slot + 2000)).not.toBe(message.messageId);
    const wire = message.asDict();
    expect(wire).toMatchObject({
      queue_name: "default",
      actor_name: "tick",
      args: [1, "two"],
      kwargs: { three: 3 },
      options: { max_retries: 0, scheduled_at: "2026-01-01T00:00:02.000Z", schedule: "every-2s" },
    });
    const [info] = await scheduler.list();
    expect(info).toEqual({
      name: "every-2s",
      everyMs: 2000,
      actor: "tick",
      enabled: true,
      paused: false,
      nextRun: Date.parse("2026-01-01T00:00:08.000Z"),
      lastRun: expect.any(Number),
      lastOutcome: "enqueued",
    });
    // Fired when the slot came, give or take one step of the test's clock.
    expect(info!.lastRun! - Date.parse("2026-01-01T00:00:06.000Z")).toBeLessThanOrEqual(250);
  });

  const misfireCases: [MisfirePolicy, string[]][] = [
    ["skip", ["40"]],
    ["once", ["35", "40"]],
    ["all", ["15", "20", "25", "30", "35", "40"]],
  ];
  it.each(misfireCases)(
    "misfire %s after a 30 s stop fires the right missed slots, then goes on",
    async (misfire, expected) => {
      env = setup("2026-01-01T00:00:00.500Z");
      const spec = { cron: "*/5 * * * * *", actor: "tick", misfire };
      const first = env.make({ misfireGraceMs: 1000 }).schedule("five", spec);
      await first.start();
      await env.advance(10_000);
      expect(env.recorder.slots("five")).toEqual([
        "2026-01-01T00:00:05.000Z",
        "2026-01-01T00:00:10.000Z",
      ]);
      await first.stop();
      await env.clock.advance(30_000); // no scheduler runs for 30 s
      const second = env.make({ misfireGraceMs: 1000 }).schedule("five", spec);
      await second.start();
      await env.advance(5000);
      const seconds = (list: string[]) =>
        list.map((slot) => String(new Date(slot).getUTCSeconds()));
      expect(seconds(env.recorder.slots("five"))).toEqual(["5", "10", ...expected, "45"]);
    },
  );

  it("misfire all fires at most maxCatchUp (100) slots, the latest, after three days down", async () => {
    env = setup("2026-01-01T00:00:00.500Z");
    const spec = { everyMs: 1000, actor: "tick", misfire: "all" as const };
    const first = env.make({ misfireGraceMs: 1000 }).schedule("busy", spec);
    await first.start();
    await env.advance(1000);
    await first.stop();
    await env.clock.advance(3 * 86_400_000); // 259 200 slots missed
    const second = env.make({ misfireGraceMs: 1000 }).schedule("busy", spec);
    const started = Date.now();
    await second.start();
    const slots = env.recorder.slots("busy").map(Date.parse);
    expect(slots).toHaveLength(1 + 100);
    const now = env.clock.now();
    expect(slots.at(-1)).toBe(Math.floor(now / 1000) * 1000);
    expect(slots.at(-100)).toBe(Math.floor(now / 1000) * 1000 - 99_000);
    expect(Date.now() - started).toBeLessThan(20_000);
    await env.advance(1000);
    expect(env.recorder.slots("busy")).toHaveLength(102);
  });

  it("does not fire a paused schedule, and resumes without catching up", async () => {
    env = setup("2026-01-01T00:00:00.500Z");
    const scheduler = env.make().schedule("p", { everyMs: 1000, actor: "tick" });
    const other = env.make({ id: "other" }).schedule("p", { everyMs: 1000, actor: "tick" });
    await scheduler.start();
    await other.start();
    await env.advance(2000);
    expect(env.recorder.slots("p")).toHaveLength(2);
    await other.pause("p"); // from a process that does not lead: the store carries it
    expect((await scheduler.list())[0]).toMatchObject({ paused: true, enabled: true });
    await env.advance(5000);
    expect(env.recorder.slots("p")).toHaveLength(2);
    await other.resume("p");
    await env.advance(2000);
    expect(env.recorder.slots("p").map((slot) => new Date(slot).getUTCSeconds())).toEqual([
      1, 2, 8, 9,
    ]);
    await expect(scheduler.pause("nope")).rejects.toThrow(UnknownScheduleError);
  });

  it("does not fire a schedule declared with enabled: false", async () => {
    env = setup("2026-01-01T00:00:00.500Z");
    const scheduler = env.make().schedule("off", { everyMs: 1000, actor: "tick", enabled: false });
    await scheduler.start();
    await env.advance(3000);
    expect(env.recorder.sent).toHaveLength(0);
    expect((await scheduler.list())[0]).toMatchObject({ enabled: false, paused: false });
  });

  it("fires a tz schedule once per local day across both DST changes (fake clock)", async () => {
    // New York: clocks go back on 2026-11-01 (01:30 happens twice) and forward on 2026-03-08.
    env = setup("2026-10-30T12:00:00Z");
    const fall = env.make({ leaseTtlMs: 8 * 3_600_000 });
    fall.schedule("fall", { cron: "30 1 * * *", tz: "America/New_York", actor: "tick" });
    await fall.start();
    await env.advance(4 * 86_400_000, 3_600_000);
    expect(env.recorder.slots("fall")).toEqual([
      "2026-10-31T05:30:00.000Z", // 01:30 EDT
      "2026-11-01T05:30:00.000Z", // 01:30 EDT, not again at 01:30 EST
      "2026-11-02T06:30:00.000Z", // 01:30 EST
      "2026-11-03T06:30:00.000Z",
    ]);
    await env.cleanup();
    env = setup("2026-03-06T12:00:00Z");
    const spring = env.make({ leaseTtlMs: 8 * 3_600_000 });
    spring.schedule("spring", { cron: "30 2 * * *", tz: "America/New_York", actor: "tick" });
    await spring.start();
    await env.advance(4 * 86_400_000, 3_600_000);
    expect(env.recorder.slots("spring")).toEqual([
      "2026-03-07T07:30:00.000Z", // 02:30 EST
      "2026-03-08T07:30:00.000Z", // 02:30 does not exist that day: 03:30 EDT
      "2026-03-09T06:30:00.000Z", // 02:30 EDT
      "2026-03-10T06:30:00.000Z",
    ]);
  });

  it("delays each fired message by the slot's jitter, the same in every process", async () => {
    env = setup("2026-01-01T00:00:00.500Z");
    const scheduler = env.make().schedule("j", { everyMs: 1000, actor: "tick", jitterMs: 400 });
    await scheduler.start();
    await env.advance(5000);
    const delays = env.recorder.sent.map(({ delay }) => delay ?? 0);
    expect(delays).toHaveLength(5);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(400);
    expect(new Set(delays).size).toBeGreaterThan(1);
  });

  it("applies a stored edit only when it is marked override", async () => {
    env = setup("2026-01-01T00:00:00.500Z");
    const scheduler = env.make().schedule("e", { everyMs: 1000, actor: "tick", args: ["code"] });
    await scheduler.start();
    await env.advance(1000);
    await scheduler.edit("e", { everyMs: 2000, args: ["stored"] });
    await env.advance(4000);
    const fired = env.recorder.sent.map(({ message }) => [
      new Date(String(message.options.scheduled_at)).getUTCSeconds(),
      message.args[0],
    ]);
    expect(fired).toEqual([
      [1, "code"],
      [2, "stored"],
      [4, "stored"],
    ]);
    expect((await scheduler.list())[0]).toMatchObject({ everyMs: 2000 });
    await scheduler.revert("e");
    await env.advance(2000);
    // Back to every second from the last slot fired (4 s): 5, 6 and 7 s.
    expect(
      env.recorder
        .slots("e")
        .slice(3)
        .map((slot) => new Date(slot).getUTCSeconds()),
    ).toEqual([5, 6, 7]);
    expect(env.recorder.sent.slice(3).map(({ message }) => message.args[0])).toEqual([
      "code",
      "code",
      "code",
    ]);
    await expect(scheduler.edit("e", { cron: "nope" })).rejects.toThrow(InvalidCronError);
  });

  it("fires each slot once when two schedulers both believe they lead (the fire guard)", async () => {
    env = setup("2026-01-01T00:00:00.500Z");
    // A split moment made permanent: both stores say "you lead" without asking Redis.
    class SplitBrain extends RedisSchedulerStore {
      override lead(): Promise<boolean> {
        return Promise.resolve(true);
      }
    }
    const make = (id: string) => {
      const store = new SplitBrain({ url: REDIS_URL, prefix: env!.prefix });
      const scheduler = env!.make({ store, id }).schedule("g", { everyMs: 1000, actor: "tick" });
      return { store, scheduler };
    };
    const a = make("a");
    const b = make("b");
    await a.scheduler.start();
    await b.scheduler.start();
    expect(a.scheduler.isLeader && b.scheduler.isLeader).toBe(true);
    await env.advance(5000);
    const slots = env.recorder.slots("g");
    expect(slots).toHaveLength(5);
    expect(new Set(slots).size).toBe(5);
    await a.scheduler.stop();
    await b.scheduler.stop();
    await a.store.close();
    await b.store.close();
  });

  it("satisfies the dashboard's scheduler interface", async () => {
    env = setup("2026-01-01T00:00:00.500Z");
    const admin: {
      list(): Promise<ScheduleInfo[]>;
      pause(name: string): Promise<void>;
      resume(name: string): Promise<void>;
    } = env.make().schedule("d", { cron: "0 3 * * *", tz: "Europe/Paris", actor: "tick" });
    await admin.pause("d");
    expect(await admin.list()).toEqual([
      {
        name: "d",
        cron: "0 3 * * *",
        tz: "Europe/Paris",
        actor: "tick",
        enabled: true,
        paused: true,
        nextRun: Date.parse("2026-01-01T02:00:00.000Z"),
      },
    ]);
  });

  it("fails at start, not at the first fire, when a schedule's actor is unknown", async () => {
    env = setup("2026-01-01T00:00:00.500Z");
    const scheduler = env.make().schedule("ghost", { everyMs: 1000, actor: "no_such_actor" });
    const error = await scheduler.start().then(
      () => undefined,
      (reason: unknown) => reason as Error,
    );
    expect(error).toBeInstanceOf(ScheduleActorNotFound);
    expect(error?.message).toContain('"ghost" → "no_such_actor"');
    expect(scheduler.isLeader).toBe(false);
  });
});

it("names the bad value of an invalid cron expression or time zone at declaration", () => {
  const store = new RedisSchedulerStore({ url: REDIS_URL, prefix: "unused", client: undefined });
  const scheduler = new Scheduler({ store, useGlobalSchedules: false });
  expect(() => scheduler.schedule("bad", { cron: "61 * * * *", actor: "tick" })).toThrow(
    InvalidCronError,
  );
  expect(() => scheduler.schedule("bad", { cron: "61 * * * *", actor: "tick" })).toThrow(
    /invalid cron expression "61 \* \* \* \*"/,
  );
  expect(() =>
    scheduler.schedule("bad", { cron: "* * * * *", tz: "Mars/Olympus", actor: "tick" }),
  ).toThrow(InvalidTimeZoneError);
  expect(() =>
    scheduler.schedule("bad", { cron: "* * * * *", tz: "Mars/Olympus", actor: "tick" }),
  ).toThrow(/invalid time zone "Mars\/Olympus"/);
  expect(() => scheduler.schedule("bad", { everyMs: -5, actor: "tick" })).toThrow(/everyMs.*-5/);
  expect(() => scheduler.schedule("bad", { actor: "tick" })).toThrow(
    /exactly one of cron and everyMs/,
  );
  expect(() => scheduler.schedule("bad", { everyMs: 1, cron: "* * * * *", actor: "tick" })).toThrow(
    /got both/,
  );
  expect(() =>
    scheduler.schedule("bad", { everyMs: 1000, actor: "tick", misfire: "twice" as MisfirePolicy }),
  ).toThrow(/misfire.*"twice"/);
  void store.close();
});

it("rejects two schedules with one name, in a scheduler and globally", () => {
  const store = new RedisSchedulerStore({ url: REDIS_URL, prefix: "unused" });
  const scheduler = new Scheduler({ store, useGlobalSchedules: false });
  scheduler.schedule("twice", { everyMs: 1000, actor: "tick" });
  expect(() => scheduler.schedule("twice", { everyMs: 2000, actor: "tick" })).toThrow(
    DuplicateScheduleError,
  );
  expect(() => scheduler.schedule("twice", { everyMs: 2000, actor: "tick" })).toThrow(
    /"twice" is already declared/,
  );
  schedule("global-twice", { everyMs: 1000, actor: "tick" });
  expect(() => schedule("global-twice", { everyMs: 1000, actor: "tick" })).toThrow(
    DuplicateScheduleError,
  );
  const withGlobals = new Scheduler({ store });
  expect(() => withGlobals.schedule("global-twice", { everyMs: 1000, actor: "tick" })).toThrow(
    DuplicateScheduleError,
  );
  void store.close();
});
