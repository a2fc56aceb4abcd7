import { afterEach, describe, expect, it } from "@jest/globals";
import {
  actor,
  ConnectionClosed,
  QueueJoinTimeout,
  Results,
  StubResultBackend,
} from "../src/index.js";
import { harness, rejection, waitFor } from "./helpers.js";

/**
 * A stub result backend that fails with a ConnectionError for the next `failures` stores (or
 * always while `down`), and holds stores while `paused` until `resume()`.
 */
class TroubledBackend extends StubResultBackend {
  failures = 0;
  down = false;
  attempts = 0;
  private gate: Promise<void> | undefined;
  private open: () => void = () => undefined;

  pause(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  resume(): void {
    this.gate = undefined;
    this.open();
  }

  protected override async storeValue(key: string, data: Buffer, ttl: number): Promise<void> {
    this.attempts++;
    if (this.gate) await this.gate;
    if (this.down || this.failures > 0) {
      this.failures = Math.max(0, this.failures - 1);
      throw new ConnectionClosed("the result server went away");
    }
    return super.storeValue(key, data, ttl);
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setUp(options: { concurrency?: number } = {}) {
  const backend = new TroubledBackend();
  const results = new Results({
    backend,
    storeResults: true,
    storeAttempts: 3,
    storeMinBackoff: 1,
    storeMaxBackoff: 5,
  });
  const h = await harness({ concurrency: options.concurrency ?? 8 });
  h.broker.addMiddleware(results);
  cleanups.push(async () => {
    backend.resume();
    await h.stop();
  });
  const double = actor((x: number) => x * 2, { broker: h.broker, actorName: "double" });
  return { ...h, backend, results, double };
}

describe("storing results", () => {
  it("retries a store while the backend is unreachable", async () => {
    const { broker, backend, double, logger } = await setUp();
    backend.failures = 2;
    const message = await double.send(21);
    await broker.join("default", { timeout: 5000 });
    expect(await backend.getResult(message)).toBe(42);
    expect(backend.attempts).toBe(3);
    expect(logger.lines.filter((line) => line.startsWith("error"))).toEqual([]);
  });

  it("logs every result it gives up on at ERROR with its message id, counts it, and acks the message", async () => {
    const { broker, backend, double, results, logger } = await setUp();
    backend.down = true;
    const messages = [await double.send(1), await double.send(2)];
    await broker.join("default", { timeout: 5000 });
    expect(results.failedStores).toBe(2);
    for (const message of messages) {
      expect(logger.lines).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^error Could not store the result of message ${message.messageId} .*after 3 attempts`,
          ),
        ),
      );
    }
    expect(broker.deadLetters).toHaveLength(0);
  });

  it("lets other messages run while a store waits for a paused backend, and acks only after the store", async () => {
    const { broker, backend, double } = await setUp({ concurrency: 2 });
    const ran: number[] = [];
    const plain = actor((x: number) => void ran.push(x), {
      broker,
      actorName: "plain",
      storeResults: false,
    });
    backend.pause();
    const stored = [await double.send(1), await double.send(2)];
    await waitFor(() => backend.attempts === 2, "both stores to start");
    for (let i = 0; i < 20; i++) await plain.send(i);
    // Both slots' messages wait for their stores; the other messages still run.
    await waitFor(() => ran.length === 20, "the other messages to run while the backend is paused");
    // Store, then ack: the storing messages are not acked yet.
    expect(await rejection(broker.join("default", { timeout: 100 }))).toBeInstanceOf(
      QueueJoinTimeout,
    );
    backend.resume();
    await broker.join("default", { timeout: 5000 });
    expect(await Promise.all(stored.map((message) => backend.getResult(message)))).toEqual([2, 4]);
  });
});
