import { afterEach, describe, expect, it } from "@jest/globals";
import {
  actor,
  defaultMiddleware,
  getAbortSignal,
  Interrupt,
  Middleware,
  ResultFailure,
  Results,
  StubResultBackend,
  type Broker,
  type MessageProxy,
} from "../src/index.js";
import { harness, waitFor } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A final interrupt, as `@dq/abort`'s `Abort`. */
class Stop extends Interrupt {
  override get final(): boolean {
    return true;
  }
}

/** Interrupts the running messages it is told to, with a grace. */
class Interrupter extends Middleware {
  readonly running = new Map<string, MessageProxy>();
  override beforeProcessMessage(_broker: Broker, message: MessageProxy): void {
    this.running.set(message.messageId, message);
  }
  stop(messageId: string, grace?: number): void {
    this.running.get(messageId)?.interrupt(new Stop("stopped"), { grace });
  }
}

describe("final interrupts and interrupt graces", () => {
  it("a final interrupt is not retried: the message is acked and its failure stored", async () => {
    const results = new StubResultBackend();
    const interrupter = new Interrupter();
    const h = await harness({
      middleware: [
        ...defaultMiddleware(),
        new Results({ backend: results, storeResults: true }),
        interrupter,
      ],
    });
    cleanups.push(h.stop);
    let runs = 0;
    const job = actor(
      async function job() {
        runs++;
        const signal = getAbortSignal()!;
        await new Promise((_, reject) =>
          signal.addEventListener("abort", () => reject(signal.reason as Error)),
        );
      },
      { broker: h.broker, minBackoff: 1, maxRetries: 3 },
    );
    const message = await job.send();
    await waitFor(() => runs === 1, "the actor to start");
    interrupter.stop(message.messageId);
    const failure = await results
      .getResult(message, { block: true, timeout: 5000 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ResultFailure);
    expect((failure as ResultFailure).origExcType).toBe("Stop");
    await h.broker.join("default", { timeout: 5000 });
    expect(runs).toBe(1);
    expect(h.broker.deadLetters).toHaveLength(0);
  });

  it("with a grace, the worker stops waiting for an invocation that ignores its signal", async () => {
    const interrupter = new Interrupter();
    const h = await harness({
      concurrency: 1,
      middleware: [...defaultMiddleware(), interrupter],
    });
    cleanups.push(h.stop);
    const order: string[] = [];
    const stubborn = actor(
      async function stubborn() {
        order.push("stubborn start");
        await new Promise((resolve) => setTimeout(resolve, 1500));
        order.push("stubborn end");
      },
      { broker: h.broker },
    );
    const next = actor(() => void order.push("next"), { broker: h.broker, actorName: "next" });
    const message = await stubborn.send();
    await next.send();
    await waitFor(() => order.length === 1, "the stubborn actor to start");
    interrupter.stop(message.messageId, 100);
    expect(h.worker.overdue).toBe(1);
    await waitFor(() => order.includes("next"), "the next message", 5000);
    expect(order).toEqual(["stubborn start", "next"]);
    expect(h.worker.overdue).toBe(0);
    await waitFor(() => order.includes("stubborn end"), "the ignored invocation", 5000);
  });
});
