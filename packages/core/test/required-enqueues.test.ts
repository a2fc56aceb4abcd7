import { afterEach, describe, expect, it } from "@jest/globals";
import {
  actor,
  ConnectionClosed,
  defaultMiddleware,
  DecodeError,
  InvalidOptionError,
  Message,
  Middleware,
  pipeline,
  Retries,
  Retry,
  StubBroker,
  Worker,
  type Broker,
  type MessageProxy,
  type ProcessOutcome,
} from "../src/index.js";
import { recordingLogger, waitFor } from "./helpers.js";

/**
 * A StubBroker whose publishes fail with a ConnectionError while `down`, or for the next
 * `failures` publishes: a broker whose server goes away.
 */
class FlakyBroker extends StubBroker {
  down = false;
  failures = 0;
  failedPublishes = 0;
  protected override publish(messages: readonly Message[]): Promise<void> {
    if (this.down || this.failures > 0) {
      if (this.failures > 0) this.failures--;
      this.failedPublishes++;
      return Promise.reject(new ConnectionClosed("lost the connection to the stub server"));
    }
    return super.publish(messages);
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setUp(options: { attempts?: number; middleware?: Middleware[] } = {}) {
  const logger = recordingLogger();
  const broker = new FlakyBroker({ logger, middleware: options.middleware ?? retryFast() });
  const worker = new Worker(broker, {
    workerTimeout: 20,
    concurrency: 2,
    restartDelay: 20,
    enqueueRetry: { attempts: options.attempts ?? 5, minBackoff: 1, maxBackoff: 5 },
  });
  await worker.start();
  cleanups.push(async () => {
    broker.down = false;
    broker.failures = 0;
    await worker.stop({ timeout: 2000 });
  });
  return { broker, worker, logger };
}

function retryFast(retries: ConstructorParameters<typeof Retries>[0] = {}): Middleware[] {
  return [
    ...defaultMiddleware().filter((m) => !(m instanceof Retries)),
    new Retries({ minBackoff: 1, maxBackoff: 2, ...retries }),
  ];
}

/** An actor that fails its first `failures` runs and records every run. */
function failingActor(broker: Broker, failures: number, options: { maxRetries?: number } = {}) {
  const runs: string[] = [];
  const work = actor(
    function flaky(id: string) {
      runs.push(id);
      if (runs.length <= failures) throw new Error(`run ${runs.length} fails`);
    },
    { broker, maxRetries: options.maxRetries ?? 5 },
  );
  return { runs, work };
}

describe("enqueues that a message's ack depends on", () => {
  it("retries a retry's enqueue while the broker fails, then acks", async () => {
    const { broker } = await setUp();
    const { runs, work } = failingActor(broker, 1);
    await work.send("a");
    broker.failures = 3;
    await broker.join("default", { timeout: 5000 });
    expect(runs).toEqual(["a", "a"]);
    expect(broker.failedPublishes).toBe(3);
    expect(broker.deadLetters).toHaveLength(0);
  });

  it("requeues the message when the retry cannot be enqueued, and retries it once the broker is back", async () => {
    const { broker, logger } = await setUp({ attempts: 2 });
    const { runs, work } = failingActor(broker, Infinity, { maxRetries: 2 });
    const message = await work.send("a");
    broker.down = true;
    // Each run fails and cannot enqueue its retry: the message goes back to its queue and runs again.
    await waitFor(() => runs.length >= 3, "the message to be requeued and run again");
    expect(logger.lines).toContainEqual(
      expect.stringContaining(`error Requeuing message ${message.messageId}`),
    );
    broker.down = false;
    const runsWhileDown = runs.length;
    await broker.join("default", { timeout: 5000, failFast: false });
    // Once the broker is back the retries happen (maxRetries 2: three runs in all, counted from
    // the last requeue at most one run early), then the dead letter: nothing lost.
    expect(runs.length).toBeGreaterThanOrEqual(runsWhileDown + 2);
    expect(broker.deadLetters).toHaveLength(1);
    expect(broker.deadLetters[0]!.messageId).toBe(message.messageId);
    expect(broker.deadLetters[0]!.options.retries).toBe(3);
  });

  it("dead-letters a message whose Retry({ delay: -1 }) cannot be enqueued, with the reason", async () => {
    const { broker } = await setUp();
    const work = actor(
      function badDelay() {
        throw new Retry({ delay: -1 });
      },
      { broker },
    );
    await work.send();
    await broker.join("default", { timeout: 5000, failFast: false });
    expect(broker.deadLetters).toHaveLength(1);
    const reason = broker.deadLetters[0]!.exception as Error;
    expect(reason).toBeInstanceOf(InvalidOptionError);
    expect(reason.message).toContain("invalid delay -1");
  });

  it("dead-letters a message with an invalid minBackoff instead of dropping its retry", async () => {
    const { broker } = await setUp();
    const work = actor(
      function badBackoff() {
        throw new Error("fails");
      },
      { broker },
    );
    // As a producer that validates nothing (another language) would send it.
    const data = work.message().asDict();
    broker.enqueueRaw("default", JSON.stringify({ ...data, options: { min_backoff: "abc" } }));
    await broker.join("default", { timeout: 5000, failFast: false });
    // Dead-lettered with an InvalidOptionError: its retry's delay (NaN), or the option itself
    // where options are validated on receipt.
    expect(broker.deadLetters).toHaveLength(1);
    expect(broker.deadLetters[0]!.exception).toBeInstanceOf(InvalidOptionError);
  });

  it("dead-letters a message whose retry does not encode (deeply nested arguments), with the reason", async () => {
    const { broker } = await setUp();
    const work = actor(
      function deep(_nested: unknown) {
        throw new Error("fails");
      },
      { broker },
    );
    const depth = 20_000;
    const data = work.message(null).asDict();
    const raw = JSON.stringify({ ...data, args: [] }).replace(
      '"args":[]',
      `"args":[${"[".repeat(depth)}${"]".repeat(depth)}]`,
    );
    broker.enqueueRaw("default", raw);
    await broker.join("default", { timeout: 5000, failFast: false });
    // Dead-lettered with the reason, never acked: the decoder's walk for unsafe integers already
    // refuses such a payload on receipt (DecodeError); without it, the retry's encode does (RangeError).
    expect(broker.deadLetters).toHaveLength(1);
    const reason = broker.deadLetters[0]!.exception;
    expect(reason instanceof DecodeError || reason instanceof RangeError).toBe(true);
  });

  it("requeues a pipeline step whose next step cannot be enqueued, and runs the next step later", async () => {
    const { broker } = await setUp({ attempts: 1 });
    const steps: string[] = [];
    const first = actor(
      (x: number) => {
        steps.push(`first ${x}`);
        return x + 1;
      },
      { broker, actorName: "first" },
    );
    const second = actor((...args: number[]) => void steps.push(`second ${args.join(",")}`), {
      broker,
      actorName: "second",
    });
    await pipeline([first.message(1), second.message()], { broker }).run();
    broker.failures = 2;
    await broker.join("default", { timeout: 5000 });
    expect(steps.filter((step) => step.startsWith("second"))).toEqual(["second 2"]);
    expect(steps.filter((step) => step.startsWith("first")).length).toBe(3);
    expect(broker.deadLetters).toHaveLength(0);
  });

  it("holds the ack for any middleware's enqueue (as GroupCallbacks does), without changes to it", async () => {
    const sent: string[] = [];
    class Completion extends Middleware {
      override async afterProcessMessage(
        broker: Broker,
        message: MessageProxy,
        { exception }: ProcessOutcome,
      ): Promise<void> {
        if (exception === undefined && message.actorName === "child")
          await broker.getActor("done").send(message.messageId);
      }
    }
    const { broker } = await setUp({ attempts: 1, middleware: [...retryFast(), new Completion()] });
    const runs: string[] = [];
    const child = actor(() => void runs.push("child"), { broker, actorName: "child" });
    actor((id: string) => void sent.push(id), { broker, actorName: "done" });
    const message = await child.send();
    broker.failures = 1;
    await broker.join("default", { timeout: 5000 });
    expect(runs).toEqual(["child", "child"]);
    expect(sent).toEqual([message.messageId]);
  });
});
