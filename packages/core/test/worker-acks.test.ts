import { describe, expect, it } from "@jest/globals";
import {
  actor,
  Consumer,
  StubBroker,
  Worker,
  type ConsumeOptions,
  type MessageProxy,
} from "../src/index.js";

/** Delegates to a stub consumer, holding every ack until `release()`. */
class HeldAcks extends Consumer {
  constructor(
    private readonly inner: Consumer,
    private readonly held: Promise<void>,
    private readonly onAck: () => void,
  ) {
    super();
  }
  next() {
    return this.inner.next();
  }
  async ack(message: MessageProxy) {
    this.onAck();
    await this.held;
    await this.inner.ack(message);
  }
  nack(message: MessageProxy) {
    return this.inner.nack(message);
  }
  override requeue(messages: readonly MessageProxy[]) {
    return this.inner.requeue(messages);
  }
  close() {
    return this.inner.close();
  }
}

/** A stub broker whose acks wait for `release()`; `acksAsked` counts acks begun. */
class SlowAckBroker extends StubBroker {
  acksAsked = 0;
  release: () => void = () => undefined;
  private readonly held = new Promise<void>((resolve) => (this.release = resolve));
  override consume(queueName: string, options?: ConsumeOptions): Consumer {
    return new HeldAcks(super.consume(queueName, options), this.held, () => this.acksAsked++);
  }
}

/** A SlowAckBroker and an actor on it that records the messages it ran. */
function slowAcks() {
  const broker = new SlowAckBroker();
  const ran: number[] = [];
  const work = actor(
    function recordRun(x: number) {
      ran.push(x);
    },
    { broker },
  );
  return { broker, ran, work };
}

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 500 && !condition(); i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
};

describe("Worker acks", () => {
  it("starts the next message while the previous one's ack is under way", async () => {
    const { broker, ran, work } = slowAcks();
    const worker = new Worker(broker, { concurrency: 1, queuePrefetch: 4, workerTimeout: 50 });
    await worker.start();
    try {
      for (let i = 0; i < 3; i++) await work.send(i);
      // One slot, and no ack has completed: every message ran all the same.
      await until(() => ran.length === 3);
      expect(broker.acksAsked).toBe(3);
      await expect(broker.join("default", { timeout: 100 })).rejects.toMatchObject({
        name: "QueueJoinTimeout",
      });
      broker.release();
      await broker.join("default", { timeout: 5000 });
      await worker.join();
    } finally {
      broker.release();
      await worker.stop();
    }
    expect(ran).toEqual([0, 1, 2]);
  });

  it("stop waits for acks under way and returns nothing it already ran", async () => {
    const { broker, ran, work } = slowAcks();
    const worker = new Worker(broker, { concurrency: 2, workerTimeout: 50 });
    await worker.start();
    await work.send(1);
    await until(() => broker.acksAsked === 1);
    let stopped = false;
    const stopping = worker.stop({ timeout: 10_000 }).then((result) => {
      stopped = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stopped).toBe(false);
    broker.release();
    expect(await stopping).toEqual({ requeued: 0 });
    await broker.join("default", { timeout: 1000 });
    expect(ran).toEqual([1]);
  });
});
