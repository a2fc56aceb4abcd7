import { afterEach, describe, expect, it } from "@jest/globals";
import {
  actor,
  Middleware,
  TimeLimitExceeded,
  type Broker,
  type MessageProxy,
  type ProcessOutcome,
} from "../src/index.js";
import { harness, waitFor } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Records when afterProcessMessage runs, as the `dq` command's heartbeat tracks running messages. */
class Tracker extends Middleware {
  readonly after: { at: number; exception: unknown }[] = [];
  override afterProcessMessage(
    _broker: Broker,
    _message: MessageProxy,
    { exception }: ProcessOutcome,
  ): void {
    this.after.push({ at: Date.now(), exception });
  }
}

describe("invocations running past their time limit", () => {
  it("retries a timed-out message only after its invocation ended: never two at once", async () => {
    const tracker = new Tracker();
    const h = await harness();
    h.broker.addMiddleware(tracker);
    cleanups.push(h.stop);
    const spans: { start: number; end: number }[] = [];
    const stubborn = actor(
      async function stubborn() {
        const span = { start: Date.now(), end: Infinity };
        spans.push(span);
        // Ignores its abort signal.
        await new Promise((resolve) => setTimeout(resolve, 600));
        span.end = Date.now();
      },
      { broker: h.broker, timeLimit: 200, maxRetries: 1, minBackoff: 0 },
    );
    await stubborn.send();
    await waitFor(() => h.worker.overdue === 1, "the first invocation to be overdue", 5000);
    // Past its deadline the message is not settled: no retry runs, the hooks have not fired.
    expect(spans).toHaveLength(1);
    expect(tracker.after).toHaveLength(0);
    await h.broker.join("default", { timeout: 10_000, failFast: false });
    expect(spans).toHaveLength(2);
    expect(spans[1]!.start).toBeGreaterThanOrEqual(spans[0]!.end);
    // afterProcessMessage fired once per invocation, each after it ended, with TimeLimitExceeded.
    expect(tracker.after.map((entry) => entry.exception)).toEqual([
      expect.any(TimeLimitExceeded),
      expect.any(TimeLimitExceeded),
    ]);
    expect(tracker.after[0]!.at).toBeGreaterThanOrEqual(spans[0]!.end);
    expect(h.broker.deadLetters).toHaveLength(1);
    expect(h.worker.overdue).toBe(0);
  });

  it("keeps the slot of an overdue invocation: with concurrency 1 the next message waits", async () => {
    const h = await harness({ concurrency: 1 });
    cleanups.push(h.stop);
    const order: string[] = [];
    const stubborn = actor(
      async function stubborn() {
        order.push("stubborn start");
        await new Promise((resolve) => setTimeout(resolve, 400));
        order.push("stubborn end");
      },
      { broker: h.broker, timeLimit: 100, maxRetries: 0 },
    );
    const next = actor(() => void order.push("next"), { broker: h.broker, actorName: "next" });
    await stubborn.send();
    await next.send();
    await h.broker.join("default", { timeout: 10_000, failFast: false });
    expect(order).toEqual(["stubborn start", "stubborn end", "next"]);
  });
});
