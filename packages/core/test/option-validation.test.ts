import { afterEach, describe, expect, it } from "@jest/globals";
import { z } from "zod";
import {
  actor,
  AgeLimit,
  InvalidArgumentsError,
  InvalidOptionError,
  Message,
  Middleware,
  Results,
  ShutdownNotifications,
  StubBroker,
  StubResultBackend,
  TimeLimit,
} from "../src/index.js";
import { optionValidator, type OptionValidator } from "../src/adapter.js";
import { harness } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Returns what `fn` threw, failing the test when it did not throw. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
}

/** Options as a JavaScript caller may pass them, past the compile-time checks. */
function loose(options: object): never {
  return options as never;
}

/** Counts what reaches the broker's enqueue hooks. */
class EnqueueCount extends Middleware {
  count = 0;
  override beforeEnqueue() {
    this.count++;
  }
}

function brokerWithResults(): StubBroker & { enqueued: EnqueueCount } {
  const broker = new StubBroker();
  const enqueued = new EnqueueCount();
  broker.addMiddleware(new Results({ backend: new StubResultBackend() }));
  broker.addMiddleware(enqueued);
  return Object.assign(broker, { enqueued });
}

/** [option, bad value, how the value shows in the message] — each accepted silently before. */
const BAD_VALUES: [string, unknown, string][] = [
  ["timeLimit", "abc", '"abc"'],
  ["timeLimit", -5, "-5"],
  ["timeLimit", NaN, "NaN"],
  ["maxRetries", "abc", '"abc"'],
  ["maxRetries", -1, "-1"],
  ["maxRetries", 1.5, "1.5"],
  ["minBackoff", "10", '"10"'],
  ["minBackoff", -1, "-1"],
  ["maxBackoff", Infinity, "Infinity"],
  ["maxAge", "1h", '"1h"'],
  ["maxAge", -1, "-1"],
  ["resultTtl", 0, "0"],
  ["resultTtl", "600s", '"600s"'],
  ["storeResults", "yes", '"yes"'],
  ["pipeIgnore", 1, "1"],
  ["notifyShutdown", "true", '"true"'],
  ["retryWhen", true, "true"],
  ["throws", "Error", '"Error"'],
  ["throws", [Error, "TypeError"], '[null,"TypeError"]'],
  ["onSuccess", 42, "42"],
  ["onFailure", "", '""'],
];

describe("option values at actor declaration", () => {
  it.each(BAD_VALUES)(
    "rejects %s = %p with InvalidOptionError naming the option and the value",
    (option, value, shown) => {
      const error = thrown(() =>
        actor(function f() {}, loose({ broker: brokerWithResults(), [option]: value })),
      );
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toContain(`actor f: invalid option ${option} = ${shown}: expected `);
      expect((error as InvalidOptionError).option).toBe(option);
      expect(Object.is((error as InvalidOptionError).value, value)).toBe(true);
    },
  );

  it("rejects a non-integer priority, showing it", () => {
    const error = thrown(() =>
      actor(function f() {}, { broker: new StubBroker(), priority: "high" as never }),
    );
    expect(error.message).toBe('actor f: invalid option priority = "high": expected an integer');
  });

  it("accepts the values Dramatiq accepts: null retries forever, Infinity has no time limit, 0 falls through", () => {
    const broker = brokerWithResults();
    const options = {
      maxRetries: null,
      timeLimit: Infinity,
      maxAge: 0,
      minBackoff: 0,
      storeResults: true,
      resultTtl: 1,
      throws: [TypeError, RangeError],
    };
    expect(actor(function ok() {}, { broker, ...options }).options).toEqual(options);
  });

  it("names a misspelt option and suggests the closest known one", () => {
    const broker = new StubBroker();
    expect(
      thrown(() => actor(function f() {}, loose({ broker, maxRetires: 3 }))).message,
    ).toContain('unknown option "maxRetires" (did you mean maxRetries?)');
    expect(thrown(() => actor(function f() {}, loose({ broker, timelimit: 3 }))).message).toContain(
      "(did you mean timeLimit?)",
    );
    expect(
      thrown(() => actor(function f() {}, loose({ broker, max_retries: 3 }))).message,
    ).toContain('"max_retries" (did you mean maxRetries?)');
    expect(thrown(() => actor(function f() {}, loose({ broker, queue: "q" }))).message).toContain(
      '"queue" (did you mean queueName?)',
    );
    // Nothing close: no suggestion, but the known names.
    const far = thrown(() => actor(function f() {}, loose({ broker, colour: "red" })));
    expect(far).toBeInstanceOf(InvalidOptionError);
    expect(far.message).not.toContain("did you mean");
    expect(far.message).toContain("Known options: ");
  });
});

describe("message options in messageWithOptions and sendWithOptions", () => {
  it.each(BAD_VALUES.filter(([option]) => option !== "retryWhen" && option !== "throws"))(
    "rejects %s = %p, naming it, and enqueues nothing",
    async (option, value, shown) => {
      const broker = brokerWithResults();
      const work = actor(function work() {}, { broker });
      const error = (await work
        .sendWithOptions(loose({ args: [], [option]: value }))
        .catch((caught: unknown) => caught)) as Error;
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toContain(
        `message of actor work: invalid option ${option} = ${shown}: expected `,
      );
      expect(broker.enqueued.count).toBe(0);
    },
  );

  it("rejects a bad delay and brokerPriority, showing the value", async () => {
    const work = actor(function work() {}, { broker: new StubBroker() });
    expect(thrown(() => work.messageWithOptions(loose({ delay: "5s" }))).message).toContain(
      'invalid option delay = "5s"',
    );
    expect(thrown(() => work.messageWithOptions({ brokerPriority: 300 })).message).toContain(
      "invalid option brokerPriority = 300: expected an integer from 0 to 255",
    );
    await expect(work.sendWithOptions({ delay: -1 })).rejects.toThrow(/invalid delay -1/);
  });

  it("names a misspelt message option with the closest known one", async () => {
    const work = actor(function work() {}, { broker: new StubBroker() });
    await expect(work.sendWithOptions(loose({ args: [], dealy: 500 }))).rejects.toThrow(
      /unknown option "dealy" \(did you mean delay\?\)/,
    );
    expect(thrown(() => work.messageWithOptions(loose({ pipe_ignore: true }))).message).toContain(
      "(did you mean pipeIgnore?)",
    );
    // storeResults is known only when the Results middleware is installed, as at declaration.
    expect(thrown(() => work.messageWithOptions({ storeResults: true })).message).toContain(
      'unknown option "storeResults"',
    );
  });

  it("refuses actor-only options that a message cannot carry", () => {
    const work = actor(function work() {}, { broker: new StubBroker() });
    const error = thrown(() => work.messageWithOptions(loose({ retryWhen: () => true })));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toContain(
      "retryWhen is an actor option; a message cannot carry a function",
    );
  });

  it("rejects args that are not an array and kwargs that are not an object", () => {
    const work = actor(function work(_x: number) {}, { broker: new StubBroker() });
    expect(thrown(() => work.messageWithOptions({ args: 5 as never }))).toBeInstanceOf(
      InvalidArgumentsError,
    );
    expect(
      thrown(() => work.messageWithOptions({ args: [1], kwargs: [] as never })).message,
    ).toContain("kwargs must be a plain object, got []");
  });
});

describe("option values from the wire", () => {
  it.each([
    ["time_limit", "abc"],
    ["max_retries", -1],
    ["max_retries", "abc"],
    ["max_age", "old"],
  ])(
    "dead-letters a message with %s = %p, with the reason, without running it",
    async (wireKey, value) => {
      const h = await harness();
      cleanups.push(h.stop);
      const ran: number[] = [];
      actor((x: number) => void ran.push(x), {
        broker: h.broker,
        actorName: "wired",
        queueName: "wire",
      });
      const body = JSON.stringify({
        queue_name: "wire",
        actor_name: "wired",
        args: [1],
        kwargs: {},
        options: { [wireKey]: value },
        message_id: "m-1",
        message_timestamp: Date.now(),
      });
      h.broker.enqueueRaw("wire", body);
      await h.broker.join("wire", { failFast: false });
      expect(ran).toEqual([]);
      const [letter] = h.broker.deadLetters;
      expect(InvalidOptionError.isInstance(letter!.exception)).toBe(true);
      expect((letter!.exception as Error).message).toContain(`message m-1 (wired): invalid option`);
      expect((letter!.exception as Error).message).toContain(
        `= ${JSON.stringify(value)}: expected`,
      );
      expect(
        h.logger.lines.some((line) =>
          line.startsWith("error Dead-lettering message m-1 with an invalid option"),
        ),
      ).toBe(true);
    },
  );

  it("runs messages whose options Python writes: max_retries null, time_limit Infinity, custom keys", async () => {
    const h = await harness();
    cleanups.push(h.stop);
    const ran: number[] = [];
    actor((x: number) => void ran.push(x), {
      broker: h.broker,
      actorName: "wired",
      queueName: "wire",
    });
    const body =
      '{"queue_name":"wire","actor_name":"wired","args":[1],"kwargs":{},"options":{"max_retries":null,"time_limit":Infinity,"custom_option":"kept"},"message_id":"m-2","message_timestamp":1}';
    h.broker.enqueueRaw("wire", body);
    await h.broker.join("wire");
    expect(ran).toEqual([1]);
  });
});

describe("core middleware constructors", () => {
  it("reject option values they would misread, naming them", () => {
    expect(() => new AgeLimit(loose({ maxAge: "1h" }))).toThrow(
      'AgeLimit: invalid option maxAge = "1h": expected a number of ms >= 0',
    );
    expect(() => new TimeLimit(loose({ timeLimit: "abc" }))).toThrow(
      'TimeLimit: invalid option timeLimit = "abc": expected a number of ms > 0, or Infinity for no limit',
    );
    expect(() => new TimeLimit({ interval: 0 })).toThrow("TimeLimit: invalid option interval = 0");
    expect(() => new ShutdownNotifications(loose({ notifyShutdown: "yes" }))).toThrow(
      'ShutdownNotifications: invalid option notifyShutdown = "yes": expected a boolean',
    );
    expect(new TimeLimit({ timeLimit: Infinity }).timeLimit).toBe(Infinity);
  });
});

describe("validators declared by a middleware", () => {
  class Tenancy extends Middleware {
    override get actorOptions(): ReadonlySet<string> {
      return new Set(["tenant"]);
    }
    override get optionValidators(): Readonly<Record<string, OptionValidator>> {
      return { tenant: optionValidator("a tenant id like t-123", z.string().regex(/^t-\d+$/)) };
    }
  }

  it("checks the option at declaration, at send and on the wire", async () => {
    const h = await harness({ middleware: [new Tenancy()] });
    cleanups.push(h.stop);
    expect(
      thrown(() => actor(function f() {}, loose({ broker: h.broker, tenant: "acme" }))).message,
    ).toBe('actor f: invalid option tenant = "acme": expected a tenant id like t-123');
    const ran: string[] = [];
    const work = actor(
      (x: string) => void ran.push(x),
      loose({ broker: h.broker, actorName: "tenantWork", tenant: "t-1" }),
    );
    await expect(work.sendWithOptions(loose({ args: ["x"], tenant: 7 }))).rejects.toThrow(
      "invalid option tenant = 7: expected a tenant id like t-123",
    );
    await work.sendWithOptions(loose({ args: ["ok"], tenant: "t-2" }));
    await h.broker.enqueue(
      new Message({
        queueName: "default",
        actorName: "tenantWork",
        args: ["bad"],
        options: { tenant: "nope" },
      }),
    );
    await h.broker.join("default", { failFast: false });
    expect(ran).toEqual(["ok"]);
    expect((h.broker.deadLetters[0]!.exception as Error).message).toContain(
      'invalid option tenant = "nope"',
    );
  });
});
