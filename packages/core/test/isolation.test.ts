// Isolated actors (`isolate: "thread"`) on the StubBroker: results, errors, CurrentMessage, time
// limits, interrupts and crashing threads. The actors come from a CommonJS fixture that jest loads
// here (core's sources) and each worker thread loads again (core's build: `pnpm build` first).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { threadId } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  actor,
  CurrentMessage,
  GenericActor,
  Interrupt,
  Middleware,
  Results,
  ResultFailure,
  Retry,
  StubBroker,
  StubResultBackend,
  ThreadCrashed,
  TimeLimitExceeded,
  Worker,
  defaultMiddleware,
  setBroker,
  type Actor,
  type Broker,
  type MessageProxy,
  type ProcessOutcome,
} from "../src/index.js";
import { recordingLogger, uniqueQueueName, waitFor } from "../src/testing.js";

/** Records each message's outcome and when it started and ended. */
class Outcomes extends Middleware {
  readonly started = new Map<string, { at: number; proxy: MessageProxy }>();
  readonly ended = new Map<string, { at: number; result?: unknown; exception?: unknown }>();
  override beforeProcessMessage(_broker: Broker, message: MessageProxy): void {
    this.started.set(message.messageId, { at: Date.now(), proxy: message });
  }
  override afterProcessMessage(_b: Broker, message: MessageProxy, outcome: ProcessOutcome): void {
    this.ended.set(message.messageId, { at: Date.now(), ...outcome });
  }
  async outcome(messageId: string, timeout = 20_000) {
    await waitFor(() => this.ended.has(messageId), `message ${messageId} to end`, timeout);
    const end = this.ended.get(messageId)!;
    return { ...end, ms: end.at - this.started.get(messageId)!.at };
  }
}

/** The shape of the fixture's class-based actor. */
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- a type only (declare class)
declare class ClassActor extends GenericActor {
  perform(x: number): { x: number; threadId: number };
}

type Fixture = Record<
  | "spin"
  | "fib"
  | "fails"
  | "retries"
  | "current"
  | "exits"
  | "hog"
  | "hearsAbort"
  | "double"
  | "returnsFunction"
  | "throwsObject",
  Actor
>;

const outcomes = new Outcomes();
const backend = new StubResultBackend();
const logger = recordingLogger();
const broker = new StubBroker({
  middleware: [...defaultMiddleware(), new CurrentMessage(), new Results({ backend }), outcomes],
  logger,
});
let actors: Fixture;
let worker: Worker;

beforeAll(async () => {
  setBroker(broker);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  actors = require("./fixtures/isolated-actors.cjs") as Fixture;
  // Declared on first use: here, while the test's broker is the global one.
  GenericActor.declare(
    (actors as unknown as { IsolatedClassActor: typeof ClassActor }).IsolatedClassActor,
  );
  setBroker(undefined);
  worker = new Worker(broker, {
    workerTimeout: 20,
    concurrency: 3,
    isolation: { resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 } },
  });
  await worker.start();
});

afterAll(async () => {
  await worker.stop({ timeout: 5000 });
  await broker.close();
});

describe("isolate: thread", () => {
  it("captures the declaring module from the call stack", () => {
    expect(actors.fib.isolation).toEqual({
      mode: "thread",
      module: expect.stringMatching(/^file:.*\/test\/fixtures\/isolated-actors\.cjs$/),
    });
    expect(actors.double.isolation).toBeUndefined();
  });

  it("returns the result, stored by Results as in-process, from another thread", async () => {
    const message = await actors.fib.sendWithOptions({ args: [20], storeResults: true });
    const result = (await message.getResult({ backend, block: true, timeout: 20_000 })) as {
      value: number;
      threadId: number;
    };
    expect(result.value).toBe(6765);
    expect(result.threadId).not.toBe(threadId);
  });

  it("fails with the actor's error: same name, message and stack; ResultFailure stored", async () => {
    const message = await actors.fails.sendWithOptions({
      args: ["boom"],
      storeResults: true,
      maxRetries: 0,
    });
    const { exception } = await outcomes.outcome(message.messageId);
    expect(exception).toBeInstanceOf(Error);
    expect((exception as Error).name).toBe("TypeError");
    expect((exception as Error).message).toBe("boom");
    expect((exception as Error).stack).toContain("isolatedFails");
    const failure = await message
      .getResult({ backend, block: true, timeout: 5000 })
      .catch((e) => e);
    expect(failure).toBeInstanceOf(ResultFailure);
    expect((failure as ResultFailure).origExcType).toBe("TypeError");
    expect((failure as ResultFailure).origExcMsg).toBe("boom");
  });

  it("fails with a TypeError when the result cannot cross threads; a thrown non-Error crosses as is", async () => {
    const returns = await actors.returnsFunction.sendWithOptions({ maxRetries: 0 });
    const throws = await actors.throwsObject.sendWithOptions({ maxRetries: 0 });
    const returned = (await outcomes.outcome(returns.messageId)).exception as Error;
    expect(returned.name).toBe("TypeError");
    expect(returned.message).toContain("cannot cross threads");
    expect((await outcomes.outcome(throws.messageId)).exception).toEqual({ code: 42 });
  });

  it("rethrows core errors as their class: Retry keeps its delay", async () => {
    const message = await actors.retries.sendWithOptions({ maxRetries: 0 });
    const { exception } = await outcomes.outcome(message.messageId);
    expect(exception).toBeInstanceOf(Retry);
    expect((exception as Retry).delay).toBe(1234);
    expect((exception as Retry).message).toBe("later");
  });

  it("exposes CurrentMessage and the abort signal inside the thread", async () => {
    const message = await actors.current.sendWithOptions({ args: ["x"], storeResults: true });
    const result = await message.getResult({ backend, block: true, timeout: 20_000 });
    expect(result).toEqual({
      tag: "x",
      threadId: expect.any(Number),
      messageId: message.messageId,
      actorName: "isolatedCurrent",
      args: ["x"],
      hasSignal: true,
    });
  });

  it("runs a class-based actor (meta.module given) in a thread", async () => {
    const cls = (actors as unknown as { IsolatedClassActor: typeof ClassActor }).IsolatedClassActor;
    const message = await cls.sendWithOptions({ args: [3], storeResults: true });
    const result = await message.getResult({ backend, block: true, timeout: 20_000 });
    expect(result).toEqual({ x: 3, threadId: expect.any(Number) });
    expect((result as { threadId: number }).threadId).not.toBe(threadId);
  });

  it("reuses at most `concurrency` threads", async () => {
    const messages = await Promise.all(
      Array.from({ length: 12 }, () =>
        actors.fib.sendWithOptions({ args: [18], storeResults: true }),
      ),
    );
    const threads = new Set<number>();
    for (const message of messages) {
      const result = (await message.getResult({ backend, block: true, timeout: 20_000 })) as {
        threadId: number;
      };
      threads.add(result.threadId);
    }
    expect(threads.size).toBeGreaterThanOrEqual(1);
    expect(threads.size).toBeLessThanOrEqual(3);
  });

  it("terminates a busy loop at its time limit; the worker goes on meanwhile", async () => {
    // Warm: a thread has loaded the module, so the limit measures the loop, not a thread start.
    await (
      await actors.fib.sendWithOptions({ args: [5], storeResults: true })
    ).getResult({
      backend,
      block: true,
      timeout: 20_000,
    });
    const spin = await actors.spin.sendWithOptions({ timeLimit: 200, maxRetries: 0 });
    const others = await Promise.all(
      Array.from({ length: 20 }, (_, i) => actors.double.sendWithOptions({ args: [i] })),
    );
    const { exception, ms } = await outcomes.outcome(spin.messageId);
    expect(exception).toBeInstanceOf(TimeLimitExceeded);
    // The bound (300 ms) is asserted on real Redis; here a loaded machine gets slack.
    expect(ms).toBeLessThan(1000);
    for (const other of others) {
      expect((await outcomes.outcome(other.messageId)).result).toBe((other.args[0] as number) * 2);
    }
    expect(broker.deadLetters.some((m) => m.messageId === spin.messageId)).toBe(true);
  });

  it("fails only its message when the thread calls process.exit()", async () => {
    const exits = await actors.exits.sendWithOptions({ maxRetries: 0 });
    const after = await actors.fib.sendWithOptions({ args: [10], storeResults: true });
    const { exception } = await outcomes.outcome(exits.messageId);
    expect(exception).toBeInstanceOf(ThreadCrashed);
    expect((exception as Error).message).toContain("exited with code 3");
    expect(await after.getResult({ backend, block: true, timeout: 20_000 })).toMatchObject({
      value: 55,
    });
  });

  it("fails only its message when the thread runs out of memory (resourceLimits)", async () => {
    const hog = await actors.hog.sendWithOptions({ maxRetries: 0 });
    const { exception } = await outcomes.outcome(hog.messageId, 60_000);
    expect(exception).toBeInstanceOf(ThreadCrashed);
    expect(String((exception as ThreadCrashed).cause)).toMatch(/memory/i);
    const after = await actors.double.send(21);
    expect((await outcomes.outcome(after.messageId)).result).toBe(42);
  }, 90_000);

  it("an Interrupt through MessageProxy.interrupt() terminates a while(true) thread", async () => {
    class Cancelled extends Interrupt {}
    const spin = await actors.spin.sendWithOptions({ maxRetries: 0 });
    await waitFor(() => outcomes.started.has(spin.messageId), "the loop to start");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const at = Date.now();
    outcomes.started.get(spin.messageId)!.proxy.interrupt(new Cancelled("stop it"));
    const { exception } = await outcomes.outcome(spin.messageId);
    expect(exception).toBeInstanceOf(Cancelled);
    expect(outcomes.ended.get(spin.messageId)!.at - at).toBeLessThan(1000);
  });

  it("an interrupt with a grace aborts the thread's signal first, then terminates it", async () => {
    class Aborted extends Interrupt {
      readonly grace = 300;
    }
    const channelName = uniqueQueueName("dqabort");
    const channel = new BroadcastChannel(channelName);
    const heard: unknown[] = [];
    channel.onmessage = (event) => heard.push((event as MessageEvent).data);
    try {
      const hears = await actors.hearsAbort.sendWithOptions({ args: [channelName], maxRetries: 0 });
      // Started in its thread (a cold thread on a loaded machine takes a while to start).
      await waitFor(() => heard.length === 1, "the actor to start in its thread");
      const at = Date.now();
      outcomes.started.get(hears.messageId)!.proxy.interrupt(new Aborted("abort it"));
      const { exception } = await outcomes.outcome(hears.messageId);
      const took = outcomes.ended.get(hears.messageId)!.at - at;
      expect(exception).toBeInstanceOf(Aborted);
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(1500);
      await waitFor(() => heard.length === 2, "the thread to report its aborted signal");
      expect(heard[1]).toMatchObject({ reason: "Aborted", message: "abort it" });
    } finally {
      channel.close();
    }
  });
});

describe("isolate at declaration", () => {
  const local = new StubBroker({ logger: recordingLogger() });
  const fixture = path.join(__dirname, "fixtures", "isolated-actors.cjs");

  it("an actor defined inline (new Function, eval) is a named error", () => {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- an actor without a module file
    const declare = new Function(
      "actor",
      "broker",
      `return actor(function inline() {}, { broker, isolate: "thread" });`,
    ) as (a: typeof actor, b: Broker) => unknown;
    expect(() => declare(actor, local)).toThrow(
      expect.objectContaining({
        name: "IsolationError",
        message: expect.stringMatching(/inline|eval/),
      }),
    );
  });

  it("a TypeScript module threads cannot load is a named error naming the remedy", () => {
    // Outside the repository: no tsx to load it with in a thread.
    const directory = mkdtempSync(path.join(os.tmpdir(), "dq-isolate-"));
    const file = path.join(directory, "actors.ts");
    writeFileSync(file, "export {};\n");
    try {
      expect(() =>
        actor(function fromTs() {}, { broker: local, isolate: "thread", module: file }),
      ).toThrow(
        expect.objectContaining({
          name: "IsolationError",
          message: expect.stringContaining("cannot load TypeScript"),
        }),
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("a class-based isolated actor without meta.module is a named error", () => {
    class NoModule extends GenericActor {
      static override meta = { isolate: "thread" as const, broker: local };
      perform() {}
    }
    expect(() => GenericActor.declare(NoModule)).toThrow(
      expect.objectContaining({
        name: "IsolationError",
        message: expect.stringContaining("meta.module"),
      }),
    );
  });

  it("checks the module option and the isolate value", () => {
    const fine = actor(function viaModule() {}, {
      broker: local,
      isolate: "thread",
      module: fixture,
    });
    expect(fine.isolation?.module).toMatch(/^file:.*isolated-actors\.cjs$/);
    expect(() =>
      actor(function missing() {}, {
        broker: local,
        isolate: "thread",
        module: "/nope/missing.js",
      }),
    ).toThrow(
      expect.objectContaining({
        name: "IsolationError",
        message: expect.stringContaining("/nope/missing.js"),
      }),
    );
    expect(() =>
      actor(function relative() {}, { broker: local, isolate: "thread", module: "./x.js" }),
    ).toThrow(
      expect.objectContaining({
        name: "InvalidOptionError",
        message: expect.stringContaining("./x.js"),
      }),
    );
    expect(() =>
      actor(function processMode() {}, { broker: local, isolate: "process" as "thread" }),
    ).toThrow(
      expect.objectContaining({
        name: "InvalidOptionError",
        message: expect.stringContaining('"process"'),
      }),
    );
  });
});
