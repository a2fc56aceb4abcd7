import { afterEach, describe, expect, it } from "@jest/globals";
import {
  actor,
  AgeLimit,
  Callbacks,
  CurrentMessage,
  defaultMiddleware,
  getAbortSignal,
  InvalidOptionError,
  Message,
  Middleware,
  pipeline,
  Retries,
  Retry,
  Shutdown,
  ShutdownNotifications,
  SkipMessage,
  StubBroker,
  TimeLimit,
  TimeLimitExceeded,
  type Broker,
  type MessageProxy,
} from "../src/index.js";
import { computeBackoff } from "../src/adapter.js";
import { harness, waitFor } from "./helpers.js";
import { FakeClock } from "../src/testing/fake-clock.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Defaults with fast retries, plus whatever the test adds. */
function fastDefaults(
  retries: ConstructorParameters<typeof Retries>[0] = {},
  extra: Middleware[] = [],
) {
  return [
    ...defaultMiddleware().filter((m) => !(m instanceof Retries)),
    new Retries({ minBackoff: 5, maxBackoff: 20, ...retries }),
    ...extra,
  ];
}

/** Records every enqueue with its delay. */
class EnqueueLog extends Middleware {
  readonly entries: { message: Message; delay: number | undefined }[] = [];
  override afterEnqueue(_broker: Broker, message: Message, delay: number | undefined) {
    this.entries.push({ message, delay });
  }
}

describe("the middleware bus", () => {
  it("installs Dramatiq's defaults in order", () => {
    const broker = new StubBroker();
    expect(broker.middleware.map((m) => m.constructor.name)).toEqual([
      "AgeLimit",
      "TimeLimit",
      "ShutdownNotifications",
      "Callbacks",
      "Pipelines",
      "Retries",
    ]);
  });

  it("adds middleware before or after a class, and rejects unknown anchors", () => {
    const broker = new StubBroker();
    class A extends Middleware {}
    class B extends Middleware {}
    broker.addMiddleware(new A(), { before: Callbacks });
    broker.addMiddleware(new B(), { after: AgeLimit });
    expect(broker.middleware.map((m) => m.constructor.name)).toEqual([
      "AgeLimit",
      "B",
      "TimeLimit",
      "ShutdownNotifications",
      "A",
      "Callbacks",
      "Pipelines",
      "Retries",
    ]);
    expect(() => broker.addMiddleware(new A(), { before: CurrentMessage })).toThrow(
      /CurrentMessage/,
    );
    expect(() => broker.addMiddleware(new A(), { before: AgeLimit, after: AgeLimit })).toThrow(
      InvalidOptionError,
    );
  });

  it("replays earlier declarations to a middleware added later", () => {
    const broker = new StubBroker();
    actor(function early() {}, { broker, queueName: "early_q" });
    const seen: string[] = [];
    broker.addMiddleware(
      new (class extends Middleware {
        override afterDeclareActor(_b: Broker, a: { actorName: string }) {
          seen.push(`actor:${a.actorName}`);
        }
        override afterDeclareQueue(_b: Broker, q: string) {
          seen.push(`queue:${q}`);
        }
        override afterDeclareDelayQueue(_b: Broker, q: string) {
          seen.push(`delay:${q}`);
        }
      })(),
    );
    expect(seen).toEqual(["actor:early", "queue:early_q", "delay:early_q.DQ"]);
  });

  it("logs and swallows a failing hook, but lets SkipMessage through", async () => {
    class Broken extends Middleware {
      override beforeProcessMessage() {
        throw new Error("hook bug");
      }
      override afterProcessMessage() {
        throw new Error("after bug");
      }
    }
    class Skipper extends Middleware {
      readonly skipped: string[] = [];
      override beforeProcessMessage(_b: Broker, message: MessageProxy) {
        if (message.args[0] === "skip") throw new SkipMessage("skip it");
      }
      override afterSkipMessage(_b: Broker, message: MessageProxy) {
        this.skipped.push(message.messageId);
      }
    }
    const skipper = new Skipper();
    const h = await harness({ middleware: [...defaultMiddleware(), new Broken(), skipper] });
    cleanups.push(h.stop);
    const ran: string[] = [];
    const work = actor((x: string) => void ran.push(x), { broker: h.broker, actorName: "work" });
    const skipped = await work.send("skip");
    await work.send("run");
    await h.broker.join("default");
    expect(ran).toEqual(["run"]);
    expect(skipper.skipped).toEqual([skipped.messageId]);
    expect(h.broker.deadLetters).toEqual([]);
    expect(h.logger.lines.filter((l) => l.includes("Broken.beforeProcessMessage")).length).toBe(2);
    expect(h.logger.lines.some((l) => l.includes("Broken.afterProcessMessage"))).toBe(true);
  });
});

describe("Retries", () => {
  it("computes Dramatiq's backoff within its bounds", () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const low = computeBackoff(attempt, {
        factor: 15_000,
        maxBackoff: 604_800_000,
        random: () => 0,
      })[1];
      const high = computeBackoff(attempt, {
        factor: 15_000,
        maxBackoff: 604_800_000,
        random: () => 0.999999,
      })[1];
      expect(low).toBe(15_000 * 2 ** attempt);
      expect(high).toBeLessThan(2 * 15_000 * 2 ** attempt);
      expect(high).toBeGreaterThanOrEqual(low);
    }
    // Past the cap: between half the cap and the cap.
    for (const random of [0, 0.5, 0.999]) {
      const [next, backoff] = computeBackoff(30, {
        factor: 15_000,
        maxBackoff: 604_800_000,
        random: () => random,
      });
      expect(next).toBe(31);
      expect(backoff).toBeGreaterThanOrEqual(302_400_000);
      expect(backoff).toBeLessThanOrEqual(604_800_000);
    }
    expect(computeBackoff(3, { factor: 10, jitter: false, maxBackoff: 50 })).toEqual([4, 50]);
  });

  it("retries with backoff, then dead-letters with retries, traceback and requeue_timestamp", async () => {
    const log = new EnqueueLog();
    const h = await harness({ middleware: fastDefaults({}, [log]) });
    cleanups.push(h.stop);
    let runs = 0;
    const boom = actor(
      function boom() {
        runs++;
        throw new TypeError("kaboom");
      },
      { broker: h.broker, maxRetries: 2 },
    );
    const sent = await boom.send();
    await expect(h.broker.join("default")).rejects.toThrow("kaboom");
    expect(runs).toBe(3);
    const [dead] = h.broker.deadLetters;
    expect(dead!.messageId).toBe(sent.messageId);
    expect(dead!.messageTimestamp).toBe(sent.messageTimestamp);
    const wire = dead!.asDict().options;
    expect(wire.retries).toBe(3);
    expect(wire.traceback).toMatch(/TypeError: kaboom/);
    expect(typeof wire.requeue_timestamp).toBe("number");
    const retries = log.entries.filter((e) => e.delay !== undefined);
    expect(retries).toHaveLength(2);
    expect(retries.map((e) => e.message.options.retries)).toEqual([1, 2]);
    for (const entry of retries) expect(entry.delay).toBeLessThanOrEqual(20);
  });

  it("resolves options message → actor → default, with Dramatiq's falsy rules", async () => {
    const h = await harness({ middleware: fastDefaults({ maxRetries: 7 }) });
    cleanups.push(h.stop);
    const counts = new Map<string, number>();
    const fail = actor(
      function fail(label: string) {
        counts.set(label, (counts.get(label) ?? 0) + 1);
        throw new Error(label);
      },
      { broker: h.broker, maxRetries: 1, maxAge: 60_000 },
    );
    await fail.send("actor-option");
    await fail.sendWithOptions({ args: ["message-zero"], maxRetries: 0 });
    await fail.sendWithOptions({ args: ["message-two"], maxRetries: 2 });
    // maxAge: 0 on the message falls through to the actor's 60 s (an `or` option), so it runs.
    await fail.sendWithOptions({ args: ["age-zero"], maxAge: 0, maxRetries: 0 });
    await h.broker.join("default", { failFast: false });
    expect(Object.fromEntries(counts)).toEqual({
      "actor-option": 2,
      "message-zero": 1,
      "message-two": 3,
      "age-zero": 1,
    });
  });

  it("dead-letters at once on an error listed in throws", async () => {
    class NotRetryable extends Error {}
    const h = await harness({ middleware: fastDefaults() });
    cleanups.push(h.stop);
    let runs = 0;
    const strict = actor(
      function strict() {
        runs++;
        throw new NotRetryable("permanent");
      },
      { broker: h.broker, throws: [NotRetryable] },
    );
    await strict.send();
    await expect(h.broker.join("default")).rejects.toBeInstanceOf(NotRetryable);
    expect(runs).toBe(1);
    expect(h.broker.deadLetters[0]!.options.retries).toBeUndefined();
  });

  it("honours Retry({ delay }) and retryWhen", async () => {
    const log = new EnqueueLog();
    const h = await harness({ middleware: fastDefaults({}, [log]) });
    cleanups.push(h.stop);
    let runs = 0;
    const later = actor(
      function later() {
        if (++runs === 1) throw new Retry({ delay: 40 });
        return "ok";
      },
      { broker: h.broker },
    );
    await later.send();
    await waitFor(() => runs === 2, "the retry");
    expect(log.entries.find((e) => e.delay !== undefined)!.delay).toBe(40);

    const decisions: [number, string][] = [];
    let whenRuns = 0;
    const picky = actor(
      function picky() {
        whenRuns++;
        throw new Error(`fail ${whenRuns}`);
      },
      {
        broker: h.broker,
        retryWhen: (retries: number, error: unknown) => {
          decisions.push([retries, (error as Error).message]);
          return retries < 1;
        },
      },
    );
    await picky.send();
    await h.broker.join("default", { failFast: false });
    expect(whenRuns).toBe(2);
    expect(decisions).toEqual([
      [0, "fail 1"],
      [1, "fail 2"],
    ]);
  });

  it("sends onRetryExhausted the message data and the retry counts", async () => {
    const h = await harness({ middleware: fastDefaults() });
    cleanups.push(h.stop);
    const exhausted: unknown[][] = [];
    actor((data: unknown, info: unknown) => void exhausted.push([data, info]), {
      broker: h.broker,
      actorName: "gave_up",
    });
    const doomed = actor(
      function doomed() {
        throw new Error("nope");
      },
      { broker: h.broker, maxRetries: 1, onRetryExhausted: "gave_up" },
    );
    const sent = await doomed.send();
    await h.broker.join("default", { failFast: false });
    await waitFor(() => exhausted.length === 1, "the exhausted callback");
    const [data, info] = exhausted[0]!;
    expect((data as { message_id: string }).message_id).toBe(sent.messageId);
    expect(info).toEqual({ retries: 1, max_retries: 1 });
  });

  it("acks a failed message when the Retries middleware is removed", async () => {
    const h = await harness({
      middleware: defaultMiddleware().filter((m) => !(m instanceof Retries)),
    });
    cleanups.push(h.stop);
    const once = actor(
      function once() {
        throw new Error("no retries here");
      },
      { broker: h.broker },
    );
    await once.send();
    await h.broker.join("default");
    expect(h.broker.deadLetters).toEqual([]);
  });
});

describe("AgeLimit, TimeLimit, ShutdownNotifications", () => {
  it("dead-letters a message older than maxAge without running it", async () => {
    const h = await harness();
    cleanups.push(h.stop);
    const ran: string[] = [];
    const fresh = actor((x: string) => void ran.push(x), {
      broker: h.broker,
      actorName: "fresh",
      maxAge: 1000,
    });
    await h.broker.enqueue(fresh.message("old").copy({ messageTimestamp: Date.now() - 5000 }));
    await fresh.send("new");
    await h.broker.join("default", { failFast: false });
    expect(ran).toEqual(["new"]);
    expect(h.broker.deadLetters).toHaveLength(1);
    expect(h.broker.deadLetters[0]!.args).toEqual(["old"]);
  });

  it("aborts an actor's signal at the deadline and fails it with TimeLimitExceeded once it returns", async () => {
    const h = await harness({
      middleware: [
        new AgeLimit(),
        new TimeLimit(),
        new ShutdownNotifications(),
        new Callbacks(),
        new Retries({ maxRetries: 0 }),
      ],
    });
    cleanups.push(h.stop);
    let signal: AbortSignal | undefined;
    let finished = false;
    const stubborn = actor(
      async function stubborn() {
        signal = getAbortSignal();
        await new Promise((resolve) => setTimeout(resolve, 800));
        finished = true;
        return "too late";
      },
      { broker: h.broker, timeLimit: 100 },
    );
    await stubborn.send();
    // Past the deadline the invocation still runs: counted overdue, its message not settled yet.
    await waitFor(() => h.worker.overdue === 1, "the invocation to be overdue");
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBeInstanceOf(TimeLimitExceeded);
    expect(h.broker.deadLetters).toHaveLength(0);
    await expect(h.broker.join("default")).rejects.toBeInstanceOf(TimeLimitExceeded);
    expect(finished).toBe(true);
    expect(h.worker.overdue).toBe(0);
  });

  it("times a message out at its own deadline when the one before finished in time", async () => {
    const h = await harness({
      middleware: [
        new AgeLimit(),
        new TimeLimit(),
        new ShutdownNotifications(),
        new Callbacks(),
        new Retries({ maxRetries: 0 }),
      ],
    });
    cleanups.push(h.stop);
    const quick = actor(function quick() {}, { broker: h.broker, timeLimit: 100 });
    const slow = actor(
      async function slow() {
        const signal = getAbortSignal()!;
        await new Promise((resolve, reject) => {
          const timer = setTimeout(resolve, 3000);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(signal.reason as Error);
          });
        });
      },
      { broker: h.broker, timeLimit: 400 },
    );
    // quick's deadline (100 ms) is still armed when slow starts: slow must not be cut off then.
    await quick.send();
    await h.broker.join("default");
    const started = Date.now();
    await slow.send();
    await expect(h.broker.join("default")).rejects.toBeInstanceOf(TimeLimitExceeded);
    const ran = Date.now() - started;
    expect(ran).toBeGreaterThanOrEqual(390);
    expect(ran).toBeLessThan(2500);
  });

  it("interrupts actors with notifyShutdown on stop, and lets the others finish", async () => {
    const h = await harness({ middleware: fastDefaults({ maxRetries: 0 }) });
    const results: string[] = [];
    const notified = actor(
      async function notified() {
        const signal = getAbortSignal()!;
        await new Promise((resolve, reject) => {
          const timer = setTimeout(resolve, 5000);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(signal.reason as Error);
          });
        });
        results.push("notified finished");
      },
      { broker: h.broker, notifyShutdown: true },
    );
    const polite = actor(
      async function polite() {
        await new Promise((resolve) => setTimeout(resolve, 100));
        results.push("polite finished");
      },
      { broker: h.broker },
    );
    await notified.send();
    await polite.send();
    await waitFor(() => h.worker.activeCount === 2, "both running");
    await h.worker.stop({ timeout: 2000 });
    expect(results).toEqual(["polite finished"]);
    expect(h.broker.deadLetters.map((d) => d.exception)).toEqual([expect.any(Shutdown)]);
  });
});

describe("Callbacks and Pipelines", () => {
  it("sends onSuccess the message data and result, onFailure the message data and error", async () => {
    const h = await harness({ middleware: fastDefaults({ maxRetries: 0 }) });
    cleanups.push(h.stop);
    const calls: unknown[][] = [];
    actor((data: unknown, extra: unknown) => void calls.push(["ok", data, extra]), {
      broker: h.broker,
      actorName: "on_ok",
    });
    actor((data: unknown, extra: unknown) => void calls.push(["failed", data, extra]), {
      broker: h.broker,
      actorName: "on_fail",
    });
    const risky = actor(
      function risky(fail: boolean) {
        if (fail) throw new RangeError("out of range");
        return 42;
      },
      { broker: h.broker, onSuccess: "on_ok", onFailure: "on_fail" },
    );
    const good = await risky.send(false);
    const bad = await risky.send(true);
    await h.broker.join("default", { failFast: false });
    await waitFor(() => calls.length === 2, "both callbacks");
    const ok = calls.find((c) => c[0] === "ok")!;
    expect((ok[1] as { message_id: string }).message_id).toBe(good.messageId);
    expect(ok[2]).toBe(42);
    const failed = calls.find((c) => c[0] === "failed")!;
    expect((failed[1] as { message_id: string }).message_id).toBe(bad.messageId);
    expect(failed[2]).toEqual({ type: "RangeError", message: "out of range" });
  });

  it("passes each result to the next step, unless pipeIgnore", async () => {
    const h = await harness();
    cleanups.push(h.stop);
    const seen: unknown[][] = [];
    const step = actor(
      function step(...args: number[]) {
        seen.push(args);
        return args.reduce((a, b) => a + b, 0) + 1;
      },
      { broker: h.broker },
    );
    await pipeline(
      [
        step.message(1),
        step.message(10),
        step.messageWithOptions({ args: [100], pipeIgnore: true }),
        step.message(),
      ],
      { broker: h.broker },
    ).run();
    await h.broker.join("default");
    expect(seen).toEqual([[1], [10, 2], [100], [101]]);
  });

  it("stops a pipeline at a failing step", async () => {
    const h = await harness({ middleware: fastDefaults({ maxRetries: 0 }) });
    cleanups.push(h.stop);
    const seen: number[] = [];
    const step = actor(
      function maybe(x: number) {
        seen.push(x);
        if (x === 2) throw new Error("step 2 fails");
        return x;
      },
      { broker: h.broker },
    );
    const piped = step.message(1).pipe(step.messageWithOptions({ args: [2], pipeIgnore: true }));
    await pipeline([piped, step.messageWithOptions({ args: [3], pipeIgnore: true })], {
      broker: h.broker,
    }).run();
    await h.broker.join("default", { failFast: false });
    expect(seen).toEqual([1, 2]);
  });
});

describe("the worker", () => {
  it("runs higher-priority (lower number) actors first with concurrency 1", async () => {
    // Priority orders what a worker holds: let it prefetch everything.
    const h = await harness({ concurrency: 1, queuePrefetch: 100, start: false });
    cleanups.push(h.stop);
    const order: string[] = [];
    const low = actor((x: string) => void order.push(x), {
      broker: h.broker,
      actorName: "low",
      priority: 10,
    });
    const high = actor((x: string) => void order.push(x), {
      broker: h.broker,
      actorName: "high",
      priority: 0,
    });
    const gate = actor(
      async () => void (await new Promise((resolve) => setTimeout(resolve, 100))),
      { broker: h.broker, actorName: "gate", priority: -1 },
    );
    await gate.send();
    for (let i = 0; i < 3; i++) await low.send(`low${i}`);
    for (let i = 0; i < 3; i++) await high.send(`high${i}`);
    await h.worker.start();
    await h.broker.join("default");
    expect(order).toEqual(["high0", "high1", "high2", "low0", "low1", "low2"]);
  });

  it("honours delays and holds delayed messages until due", async () => {
    // On a fake clock that jumps to the next timer when idle: the 250 ms delay costs no real wait.
    const clock = new FakeClock();
    const h = await harness({ clock });
    const stopClock = clock.autoAdvance();
    cleanups.push(async () => {
      await h.stop();
      stopClock();
    });
    const ran: [string, number][] = [];
    const when = actor((label: string) => void ran.push([label, clock.now()]), {
      broker: h.broker,
      actorName: "when",
    });
    const start = clock.now();
    await when.sendWithOptions({ args: ["late"], delay: 250 });
    await when.send("now");
    await h.broker.join("default");
    expect(ran.map(([label]) => label)).toEqual(["now", "late"]);
    expect(ran[1]![1] - start).toBeGreaterThanOrEqual(245);
  });

  it("pauses and resumes", async () => {
    const h = await harness();
    cleanups.push(h.stop);
    const ran: number[] = [];
    const tick = actor((x: number) => void ran.push(x), { broker: h.broker, actorName: "tick" });
    h.worker.pause();
    await tick.send(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ran).toEqual([]);
    h.worker.resume();
    await h.broker.join("default");
    expect(ran).toEqual([1]);
  });

  it("keeps CurrentMessage right across interleaved async actors", async () => {
    const h = await harness({ middleware: [...defaultMiddleware(), new CurrentMessage()] });
    cleanups.push(h.stop);
    const mismatches: string[] = [];
    const observed: string[] = [];
    const check = actor(
      async function check(label: string, wait: number) {
        for (let i = 0; i < 5; i++) {
          const current = CurrentMessage.getCurrentMessage();
          if (current?.args[0] !== label)
            mismatches.push(`${label} saw ${String(current?.args[0])}`);
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
        observed.push(label);
      },
      { broker: h.broker },
    );
    for (let i = 0; i < 8; i++) await check.send(`m${i}`, (i % 3) + 1);
    await h.broker.join("default");
    expect(observed).toHaveLength(8);
    expect(mismatches).toEqual([]);
    expect(CurrentMessage.getCurrentMessage()).toBeNull();
  });
});
