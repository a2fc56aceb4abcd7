import { afterEach, describe, expect, it } from "@jest/globals";
import {
  actor,
  defaultMiddleware,
  InvalidOptionError,
  StubBroker,
  Worker,
  type ActorOptions,
} from "@dq/core";
import { rejection, waitFor } from "@dq/core/testing";
import {
  canonicalJson,
  CompletedGuard,
  defaultUniqueKey,
  DuplicateMessage,
  isDuplicate,
  StubRateLimiterBackend,
  Unique,
  type UniqueMiddlewareOptions,
} from "../src/index.js";
import { ManualClock, uniqueKey } from "./helpers.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function setup(options: UniqueMiddlewareOptions = {}, backend = new StubRateLimiterBackend()) {
  const broker = new StubBroker({
    middleware: [...defaultMiddleware(), new Unique(backend, options)],
  });
  const queueName = uniqueKey("dquniqueopts").replace(/-/g, "_");
  let count = 0;
  const declare = (actorOptions: ActorOptions<[number]>) =>
    actor(function unique_options_job(_n: number) {}, {
      broker,
      queueName,
      actorName: `unique_options_job_${count++}`,
      ...actorOptions,
    });
  return { backend, broker, queueName, declare };
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
}

describe("the unique option: bad values are named", () => {
  it("names a misspelt field with a suggestion", () => {
    const { declare } = setup();
    const error = thrown(() =>
      declare({ unique: { ttl: 1000, until: "finished", mod: "drop" } as never }),
    );
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toContain('invalid option unique = {"ttl":1000,"until":"finished"');
    expect(error.message).toContain('unknown field "mod" (did you mean mode?)');
  });

  it("names a bad mode, until or ttl and shows the value", () => {
    const { declare } = setup();
    expect(
      thrown(() => declare({ unique: { ttl: 1000, until: "finished", mode: "dorp" as never } }))
        .message,
    ).toContain('mode "dorp" is not "drop", "replace" or "debounce"');
    expect(
      thrown(() => declare({ unique: { ttl: 1000, until: "ended" as never, mode: "drop" } }))
        .message,
    ).toContain('until "ended" is not "started" or "finished"');
    expect(
      thrown(() => declare({ unique: { until: "started", mode: "drop" } as never })).message,
    ).toContain("ttl (missing) is not an integer number of ms > 0");
    expect(
      thrown(() => declare({ unique: { ttl: 1.5, until: "started", mode: "drop" } })).message,
    ).toContain("ttl 1.5 is not an integer");
    expect(
      thrown(() => declare({ unique: { key: "", ttl: 5, until: "started", mode: "drop" } }))
        .message,
    ).toContain('key "" is not a non-empty string');
  });

  it("suggests unique for a misspelt option name, and asks for the middleware when it is missing", () => {
    const { declare } = setup();
    const misspelt = thrown(() =>
      declare({ uniqe: { ttl: 1000, until: "started", mode: "drop" } } as never),
    );
    expect(misspelt.message).toContain('"uniqe" (did you mean unique?)');
    const bare = new StubBroker();
    const missing = thrown(() =>
      actor(function unique_without_middleware() {}, {
        broker: bare,
        unique: { ttl: 1000, until: "started", mode: "drop" },
      }),
    );
    expect(missing.message).toContain("Did you forget to add a middleware");
  });

  it("checks the option on sendWithOptions too", async () => {
    const { declare } = setup();
    const job = declare({});
    const error = await rejection(
      job.sendWithOptions({ args: [1], unique: { ttl: -1, until: "started", mode: "drop" } }),
    );
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toContain("ttl -1 is not an integer number of ms > 0");
  });

  it("dead-letters a message whose unique option from the wire is malformed, with the reason", async () => {
    const { broker, queueName, declare } = setup();
    const job = declare({});
    const worker = new Worker(broker, { workerTimeout: 50 });
    cleanups.push(() => worker.stop());
    await worker.start();
    broker.enqueueRaw(
      queueName,
      JSON.stringify({
        queue_name: queueName,
        actor_name: job.actorName,
        args: [1],
        kwargs: {},
        options: { unique: { ttl: 1000, until: "finished", mode: "keep" } },
        message_id: "bad-unique",
        message_timestamp: Date.now(),
      }),
    );
    await waitFor(() => broker.deadLetters.length === 1, "the dead letter");
    expect((broker.deadLetters[0]!.exception as Error).message).toContain(
      'mode "keep" is not "drop", "replace" or "debounce"',
    );
  });

  it("names bad options of the middleware constructors", () => {
    const backend = new StubRateLimiterBackend();
    expect(() => new Unique(backend, { onDuplicate: "explode" as never })).toThrow(
      'Unique: onDuplicate must be "resolve" or "throw", got "explode"',
    );
    expect(() => new Unique(backend, { prefx: "x" } as never)).toThrow(
      'Unique: unknown option "prefx"',
    );
    expect(() => new CompletedGuard(backend, { ttl: 0 })).toThrow(
      "CompletedGuard: ttl must be an integer >= 1, got 0",
    );
  });
});

describe("Unique: keys and outcomes", () => {
  it("rejects a duplicate with DuplicateMessage when asked to", async () => {
    const { declare } = setup({ onDuplicate: "throw" });
    const job = declare({ unique: { ttl: 10_000, until: "finished", mode: "drop" } });
    const first = await job.send(1);
    const error = await rejection(job.send(1));
    expect(error).toBeInstanceOf(DuplicateMessage);
    expect((error as DuplicateMessage).owner).toBe(first.messageId);
    expect((error as Error).message).toContain(`is held by message ${first.messageId}`);
    expect(isDuplicate(await job.send(2))).toBe(false);
  });

  it("derives one key from equal jobs, whatever the order of kwargs or a delay", () => {
    const key = defaultUniqueKey("a", "q", [1, { y: 2, x: 1 }], { b: 1, a: 2 });
    expect(defaultUniqueKey("a", "q.DQ", [1, { x: 1, y: 2 }], { a: 2, b: 1 })).toBe(key);
    expect(defaultUniqueKey("a", "q", [2, { x: 1, y: 2 }], { a: 2, b: 1 })).not.toBe(key);
    expect(defaultUniqueKey("b", "q", [1, { x: 1, y: 2 }], { a: 2, b: 1 })).not.toBe(key);
    expect(defaultUniqueKey("a", "r", [1, { x: 1, y: 2 }], { a: 2, b: 1 })).not.toBe(key);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: 1n })).toBe('{"a":"1","b":[{"c":2,"d":1}]}');
  });

  it("lets a message option override the actor's, and null turn it off", async () => {
    const { declare } = setup();
    const job = declare({ unique: { ttl: 10_000, until: "finished", mode: "drop" } });
    expect(isDuplicate(await job.send(1))).toBe(false);
    expect(isDuplicate(await job.send(1))).toBe(true);
    expect(isDuplicate(await job.sendWithOptions({ args: [1], unique: null }))).toBe(false);
    const keyed = { key: uniqueKey("k"), ttl: 10_000, until: "finished", mode: "drop" } as const;
    expect(isDuplicate(await job.sendWithOptions({ args: [1], unique: keyed }))).toBe(false);
    expect(isDuplicate(await job.sendWithOptions({ args: [2], unique: keyed }))).toBe(true);
  });

  it("counts the lock's ttl from when a delayed message is due", async () => {
    const clock = new ManualClock(Date.now());
    const { backend, declare } = setup({}, new StubRateLimiterBackend({ clock }));
    const job = declare({ unique: { ttl: 1000, until: "finished", mode: "debounce" } });
    const sent = await job.sendWithOptions({ args: [1], delay: 5000 });
    const lock = sent.options.uniqueLock as string;
    clock.advance(5900);
    expect(await backend.getValue(lock)).toBe(sent.messageId);
    clock.advance(200);
    expect(await backend.getValue(lock)).toBeUndefined();
  });
});
