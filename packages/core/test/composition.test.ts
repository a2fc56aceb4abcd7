import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "@jest/globals";
import {
  actor,
  defaultMiddleware,
  group,
  Message,
  pipeline,
  ResultFailure,
  ResultMissing,
  Results,
  ResultTimeout,
  Retries,
  setBroker,
  StubBroker,
  StubResultBackend,
  Worker,
} from "../src/index.js";
import { recordingLogger, rejection } from "./helpers.js";

const TIMEOUT = 10_000;

/** A StubResultBackend that records when failures are stored (a real backend, observed). */
class RecordingBackend extends StubResultBackend {
  readonly storedExceptions: { messageId: string; error: unknown }[] = [];
  override async storeException(message: Message, error: unknown, ttl: number): Promise<void> {
    this.storedExceptions.push({ messageId: message.messageId, error });
    await super.storeException(message, error, ttl);
  }
}

const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  setBroker(undefined);
});

/** A stub broker with fast retries, Results on a fresh backend, a running worker, and actors. */
async function setup() {
  const backend = new RecordingBackend();
  const logger = recordingLogger();
  const middleware = [
    ...defaultMiddleware().filter((m) => !(m instanceof Retries)),
    new Retries({ minBackoff: 10, maxBackoff: 50 }),
    new Results({ backend }),
  ];
  const broker = new StubBroker({ middleware, logger });
  setBroker(broker);
  const queueName = `dqtest_${randomBytes(4).toString("hex")}`;
  const calls: { actor: string; args: unknown[] }[] = [];
  const record = (name: string, args: unknown[]) => void calls.push({ actor: name, args });
  const options = { broker, queueName, storeResults: true };
  const add = actor(
    (x: number, y: number) => {
      record("add", [x, y]);
      return x + y;
    },
    { ...options, actorName: "add" },
  );
  const double = actor(
    (x: number) => {
      record("double", [x]);
      return x * 2;
    },
    { ...options, actorName: "double" },
  );
  const constant = actor(
    (...args: unknown[]) => {
      record("constant", args);
      return "constant";
    },
    { ...options, actorName: "constant" },
  );
  const explode = actor(
    (x: number): number => {
      record("explode", [x]);
      throw new RangeError(`no ${x}`);
    },
    { ...options, actorName: "explode", maxRetries: 0 },
  );
  const discard = actor(
    (x: number) => {
      record("discard", [x]);
      return x;
    },
    { broker, queueName, actorName: "discard" },
  );
  const worker = new Worker(broker, { workerTimeout: 50 });
  await worker.start();
  cleanups.push(async () => {
    await worker.stop({ timeout: 5000 });
    await broker.close();
  });
  const join = () => broker.join(queueName, { timeout: TIMEOUT, failFast: false });
  return {
    broker,
    backend,
    logger,
    queueName,
    calls,
    add,
    double,
    constant,
    explode,
    discard,
    join,
  };
}

describe("pipelines", () => {
  it("runs three actors in order, each result appended to the next step's arguments", async () => {
    const { broker, add, double, calls } = await setup();
    const steps = pipeline([add.message(1, 2), add.message.partial(10), double.message.partial()], {
      broker,
    });
    expect(steps.length).toBe(3);
    await steps.run();
    expect(await steps.getResult({ block: true, timeout: TIMEOUT })).toBe(26);
    expect(await steps.getResults({ block: true, timeout: TIMEOUT })).toEqual([3, 13, 26]);
    expect(calls).toEqual([
      { actor: "add", args: [1, 2] },
      { actor: "add", args: [10, 3] },
      { actor: "double", args: [13] },
    ]);
    expect(await steps.completed).toBe(true);
    expect(await steps.completedCount).toBe(3);
  });

  it("stops at a failing step: its failure is stored, later steps never run", async () => {
    const { broker, add, double, explode, calls, join } = await setup();
    const steps = pipeline(
      [add.message(1, 2), explode.message.partial(), double.message.partial()],
      { broker },
    );
    await steps.run();
    const error = await rejection(steps.messages[1]!.getResult({ block: true, timeout: TIMEOUT }));
    expect(ResultFailure.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ origExcType: "RangeError", origExcMsg: "no 3" });
    await join();
    expect(calls.map((call) => call.actor)).toEqual(["add", "explode"]);
    expect(ResultMissing.isInstance(await rejection(steps.getResult()))).toBe(true);
    expect(
      ResultTimeout.isInstance(await rejection(steps.getResult({ block: true, timeout: 300 }))),
    ).toBe(true);
  });

  it("does not pass the previous result to a step built with pipeIgnore", async () => {
    const { broker, add, constant, calls } = await setup();
    const steps = pipeline(
      [add.message(1, 2), constant.messageWithOptions({ args: [7], pipeIgnore: true })],
      { broker },
    );
    await steps.run();
    expect(await steps.getResult({ block: true, timeout: TIMEOUT })).toBe("constant");
    expect(calls[1]).toEqual({ actor: "constant", args: [7] });
  });

  it("flattens nested pipelines", async () => {
    const { broker, add, double } = await setup();
    const inner = pipeline([add.message(1, 1), double.message.partial()], { broker });
    const steps = pipeline(
      [inner, pipeline([double.message.partial(), add.message.partial(1)], { broker })],
      { broker },
    );
    expect(steps.length).toBe(4);
    await steps.run();
    expect(await steps.getResults({ block: true, timeout: TIMEOUT })).toEqual([2, 4, 8, 9]);
  });

  it("builds pipelines with message.pipe(next)", async () => {
    const { add, double } = await setup();
    const steps = add.message(2, 3).pipe(double.message.partial()).pipe(add.message.partial(100));
    expect(steps.length).toBe(3);
    await steps.run();
    expect(await steps.getResult({ block: true, timeout: TIMEOUT })).toBe(110);
  });

  it("builds a step with message.partial: an ordinary message, the wire unchanged", async () => {
    const { broker, add, double, queueName } = await setup();
    const partial = add.message.partial(10);
    expect(partial).toBeInstanceOf(Message);
    const expected = new Message({
      queueName,
      actorName: "add",
      args: [10],
      messageId: partial.messageId,
      messageTimestamp: partial.messageTimestamp,
    });
    expect(partial.encode().toString()).toBe(expected.encode().toString());
    const steps = pipeline([double.message(2), partial], { broker });
    expect(steps.messages[0]!.asDict().options.pipe_target).toEqual(expected.asDict());
    expect(double.message.partial().args).toEqual([]);
  });

  it("delays the first step with run({ delay })", async () => {
    const { broker, add, double } = await setup();
    const steps = pipeline([add.message(4, 4), double.message.partial()], { broker });
    const started = Date.now();
    await steps.run({ delay: 300 });
    expect(ResultMissing.isInstance(await rejection(steps.messages[0]!.getResult()))).toBe(true);
    expect(await steps.getResult({ block: true, timeout: TIMEOUT })).toBe(16);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});

describe("groups", () => {
  it("returns the results of 100 messages in order", async () => {
    const { broker, add, join } = await setup();
    const jobs = group(
      Array.from({ length: 100 }, (_, i) => add.message(i, i)),
      { broker },
    );
    expect(await jobs.completedCount).toBe(0);
    expect(await jobs.completed).toBe(false);
    await jobs.run();
    expect(await jobs.getResults({ block: true, timeout: TIMEOUT })).toEqual(
      Array.from({ length: 100 }, (_, i) => 2 * i),
    );
    await join();
    expect(await jobs.completedCount).toBe(100);
    expect(await jobs.completed).toBe(true);
  });

  it("counts completed children while some are still missing", async () => {
    const { broker, add, double } = await setup();
    const done = add.message(1, 1);
    const jobs = group([done, double.message(5)], { broker });
    await broker.enqueue(done);
    await done.getResult({ block: true, timeout: TIMEOUT });
    expect(await jobs.completedCount).toBe(1);
    expect(await jobs.completed).toBe(false);
  });

  it("waits for every child with wait(), nested groups and pipelines included", async () => {
    const { broker, add, double } = await setup();
    const jobs = group(
      [
        add.message(1, 2),
        group([double.message(4), double.message(5)], { broker }),
        pipeline([add.message(1, 1), double.message.partial()], { broker }),
      ],
      { broker },
    );
    await jobs.run();
    await jobs.wait({ timeout: TIMEOUT });
    expect(await jobs.completed).toBe(true);
    expect(await jobs.getResults()).toEqual([3, [8, 10], 4]);
  });

  it("times out wait() when a child never completes", async () => {
    const { broker, add } = await setup();
    const jobs = group([add.message(1, 2), add.message(3, 4)], { broker });
    // Only the first child runs.
    await broker.enqueue(jobs.children[0] as Message);
    expect(ResultTimeout.isInstance(await rejection(jobs.wait({ timeout: 500 })))).toBe(true);
  });
});

describe("results of actors without storeResults", () => {
  it("are missing, time out when waited for, and the discarded value is logged", async () => {
    const { discard, logger, join } = await setup();
    const sent = await discard.send(5);
    await join();
    const missing = await rejection(sent.getResult());
    expect(ResultMissing.isInstance(missing)).toBe(true);
    expect((missing as Error).message).toContain(sent.messageId);
    expect((missing as Error).message).toContain("storeResults");
    const timeout = await rejection(sent.getResult({ block: true, timeout: 300 }));
    expect(ResultTimeout.isInstance(timeout)).toBe(true);
    expect((timeout as Error).message).toContain("discard");
    expect(
      logger.lines.some(
        (line) =>
          line.startsWith("warn") && line.includes("discard") && line.includes("storeResults"),
      ),
    ).toBe(true);
  });
});

describe("the Results middleware and retries", () => {
  it("stores a failure only once retries are exhausted", async () => {
    const { broker, backend, queueName, join } = await setup();
    let attempts = 0;
    const attemptsAtStore: number[] = [];
    const original = backend.storeException.bind(backend);
    backend.storeException = async (message, error, ttl) => {
      attemptsAtStore.push(attempts);
      await original(message, error, ttl);
    };
    const flaky = actor(
      (): number => {
        attempts++;
        throw new Error(`attempt ${attempts}`);
      },
      { broker, queueName, actorName: "always_fails", storeResults: true, maxRetries: 2 },
    );
    const sent = await flaky.send();
    const error = await rejection(sent.getResult({ block: true, timeout: TIMEOUT }));
    expect(ResultFailure.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ origExcType: "Error", origExcMsg: "attempt 3" });
    await join();
    expect(attempts).toBe(3);
    expect(attemptsAtStore).toEqual([3]);
  });

  it("stores the result, and no failure, when a retry succeeds", async () => {
    const { broker, backend, queueName, join } = await setup();
    let attempts = 0;
    const flaky = actor(
      () => {
        attempts++;
        if (attempts < 3) throw new Error(`attempt ${attempts}`);
        return "third time";
      },
      { broker, queueName, actorName: "flaky", storeResults: true, maxRetries: 5 },
    );
    const sent = await flaky.send();
    expect(await sent.getResult({ block: true, timeout: TIMEOUT })).toBe("third time");
    await join();
    expect(attempts).toBe(3);
    expect(backend.storedExceptions).toEqual([]);
  });
});
