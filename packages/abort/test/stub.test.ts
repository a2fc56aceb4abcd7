import { afterEach, describe, expect, it } from "@jest/globals";
import {
  InvalidOptionError,
  ResultFailure,
  Results,
  StubBroker,
  StubResultBackend,
  Worker,
  actor,
  pipeline,
  type Message,
} from "@dq/core";
import { recordingLogger } from "@dq/core/testing";
import {
  Abortable,
  AbortClient,
  AbortNotConfigured,
  StubAbortBackend,
  abort,
  abortGroup,
  pythonDumps,
} from "../src/index.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function setup(abortableDefault = true) {
  const backend = new StubAbortBackend();
  const results = new StubResultBackend();
  const abortable = new Abortable({ backend, abortable: abortableDefault });
  const broker = new StubBroker({ logger: recordingLogger() });
  broker.addMiddleware(new Results({ backend: results, storeResults: true }));
  broker.addMiddleware(abortable);
  const worker = new Worker(broker, { workerTimeout: 20 });
  cleanups.push(async () => {
    await worker.stop({ timeout: 2000 });
    await broker.close();
    await backend.close();
  });
  const outcome = async (message: Message) =>
    results.getResult(message, { block: true, timeout: 5000 }).then(
      (value) => ({ value }),
      (error: unknown) => ({ failure: (error as ResultFailure).origExcType }),
    );
  return { backend, results, abortable, broker, worker, outcome };
}

describe("Abortable on the stub broker", () => {
  it("the message option wins over the actor option, which wins over the default", async () => {
    const env = setup(false);
    const job = actor((x: number) => x, { broker: env.broker, actorName: "job", abortable: true });
    const plain = actor((x: number) => x, { broker: env.broker, actorName: "plain" });
    const byActor = await job.send(1);
    const optedOut = await job.sendWithOptions({ args: [2], abortable: false });
    const byDefault = await plain.send(3);
    const optedIn = await plain.sendWithOptions({ args: [4], abortable: true });
    for (const message of [byActor, optedOut, byDefault, optedIn])
      await env.abortable.abort(message, { mode: "cancel" });
    await env.worker.start();
    expect(await env.outcome(byActor)).toEqual({ failure: "Abort" });
    expect(await env.outcome(optedOut)).toEqual({ value: 2 });
    expect(await env.outcome(byDefault)).toEqual({ value: 3 });
    expect(await env.outcome(optedIn)).toEqual({ failure: "Abort" });
  });

  it("abort() finds the broker's Abortable; abortGroup aborts every step of a pipeline", async () => {
    const env = setup();
    const step = actor((x: number) => x + 1, { broker: env.broker, actorName: "step" });
    const steps = pipeline([step.message(1), step.message(2), step.message(3)], {
      broker: env.broker,
    });
    const requested = await abortGroup(steps, { broker: env.broker, mode: "cancel" });
    expect(requested.map((result) => result.messageId)).toEqual(
      steps.messages.map((message) => message.messageId),
    );
    for (const message of steps.messages)
      expect(await env.backend.pending(`cancel:${message.messageId}`)).toBe(true);
    await steps.run();
    await env.worker.start();
    expect(await env.outcome(steps.messages[0]!)).toEqual({ failure: "Abort" });
  });

  it("keeps the request of a delayed message until it is due plus abortTtl", async () => {
    const env = setup();
    const job = actor((x: number) => x, { broker: env.broker, actorName: "later" });
    const message = await job.sendWithOptions({ args: [1], delay: 3_600_000 });
    const result = await abort(message.messageId, { broker: env.broker, mode: "cancel" });
    expect(result.ttl).toBeGreaterThan(3_600_000 + 80_000);
    expect(env.backend.ttlOf(`cancel:${message.messageId}`)).toBeGreaterThan(3_600_000);
  });

  it("bad input gets named errors showing the value", async () => {
    const env = setup();
    expect(() => new Abortable({ backend: undefined as never })).toThrow(InvalidOptionError);
    expect(() => new Abortable({ backend: env.backend, abortable: "yes" as never })).toThrow(
      /abortable = 'yes': expected a boolean/,
    );
    expect(() => new AbortClient(env.backend, { abortTtl: 0 })).toThrow(/abortTtl = 0/);
    await expect(env.abortable.abort("x", { mode: "stop" as never })).rejects.toThrow(
      /invalid option mode = 'stop': expected "cancel" or "abort"/,
    );
    await expect(env.abortable.abort("x", { abortTimeout: -5 })).rejects.toThrow(
      InvalidOptionError,
    );
    await expect(abort("x", { broker: new StubBroker() })).rejects.toBeInstanceOf(
      AbortNotConfigured,
    );
    const job = actor(() => undefined, { broker: env.broker, actorName: "typed" });
    expect(() => job.messageWithOptions({ abortable: "no" as never })).toThrow(InvalidOptionError);
  });

  it("fits the dashboard's abort hook: AbortClient and Abortable", async () => {
    const env = setup();
    type DashboardHook = {
      abort(messageId: string, options: { mode: "cancel" | "abort" }): Promise<unknown>;
    };
    const hooks: DashboardHook[] = [new AbortClient(env.backend), env.abortable];
    for (const hook of hooks) await hook.abort("dashboard-id", { mode: "cancel" });
    expect(await env.backend.poll("cancel:dashboard-id")).toEqual({
      key: "cancel:dashboard-id",
      params: {},
    });
    expect(await env.backend.poll("cancel:dashboard-id")).not.toBeNull();
  });

  it("writes values as Python's json.dumps does", () => {
    expect(pythonDumps({})).toBe("{}");
    expect(pythonDumps({ abort_timeout: 0 })).toBe('{"abort_timeout": 0}');
  });
});
