import { expect, it } from "@jest/globals";
import { Message, type MessageProxy } from "@dq/core";
import type { SettlementCaseContext } from "./settlement-tests.js";

/** What `defineBrokerTests` hands the consumer cases. */
export type ConsumerCaseContext = Pick<SettlementCaseContext, "setup"> & {
  /** In enqueue order and within one prefetch window per consumer (see BrokerTestCapabilities.ordered). */
  ordered: boolean;
};

/** The args delivered, as the broker promises them: in order, or as a set when it is sharded. */
function deliveredArgs(context: ConsumerCaseContext, proxies: readonly MessageProxy[]): unknown[] {
  const args = proxies.map((proxy) => proxy.args[0]);
  return context.ordered ? args : args.sort();
}

/**
 * The consumer cases of the broker contract: a message comes back with its fields intact, an idle
 * wait ends at its timeout, and `next` and `nextReady` deliver each message once, in order, within
 * the prefetch window.
 */
export function defineConsumerCases(context: ConsumerCaseContext): void {
  it("enqueues, consumes and acks a message with its fields intact", async () => {
    const { broker, queueName } = await context.setup();
    broker.declareQueue(queueName);
    const message = new Message({
      queueName,
      actorName: "echo",
      args: [1, "two", { three: 3 }],
      kwargs: { k: true },
      options: { custom_option: "kept" },
    });
    const enqueued = await broker.enqueue(message);
    expect(enqueued.messageId).toBe(message.messageId);
    const consumer = broker.consume(queueName, { prefetch: 1, timeout: 1000 });
    try {
      let proxy: MessageProxy | null = null;
      for (let i = 0; i < 20 && !proxy; i++) proxy = (await consumer.next()).value ?? null;
      expect(proxy).not.toBeNull();
      expect(proxy!.messageId).toBe(message.messageId);
      expect(proxy!.actorName).toBe("echo");
      expect(proxy!.args).toEqual([1, "two", { three: 3 }]);
      expect(proxy!.kwargs).toEqual({ k: true });
      expect(proxy!.options.custom_option).toBe("kept");
      await consumer.ack(proxy!);
    } finally {
      await consumer.close();
    }
    await broker.join(queueName, { timeout: 5000 });
  });

  it("yields null after the idle timeout and respects prefetch", async () => {
    const { broker, queueName } = await context.setup();
    broker.declareQueue(queueName);
    const consumer = broker.consume(queueName, { prefetch: 2, timeout: 100 });
    try {
      expect((await consumer.next()).value).toBeNull();
      for (let i = 0; i < 3; i++)
        await broker.enqueue(new Message({ queueName, actorName: "noop", args: [i] }));
      const delivered: MessageProxy[] = [];
      for (let i = 0; i < 40 && delivered.length < 3; i++) {
        const value = (await consumer.next()).value;
        if (value) delivered.push(value);
        if (delivered.length === 2 && context.ordered) {
          // The prefetch window is full: nothing more until one is acked.
          expect((await consumer.next()).value).toBeNull();
          await consumer.ack(delivered[0]!);
        }
      }
      expect(deliveredArgs(context, delivered)).toEqual([0, 1, 2]);
      for (const proxy of delivered.slice(context.ordered ? 1 : 0)) await consumer.ack(proxy);
    } finally {
      await consumer.close();
    }
  });

  it("ends an idle wait at its timeout, also after a delivery ended the wait before it", async () => {
    const { broker, queueName } = await context.setup();
    broker.declareQueue(queueName);
    const consumer = broker.consume(queueName, { prefetch: 1, timeout: 400 });
    try {
      // A wait begins with nothing there, and a message ends it.
      const first = consumer.next();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await broker.enqueue(new Message({ queueName, actorName: "noop", args: [1] }));
      let proxy = (await first).value;
      for (let i = 0; i < 20 && !proxy; i++) proxy = (await consumer.next()).value;
      expect(proxy).toBeTruthy();
      await consumer.ack(proxy!);
      // Nothing ends the next wait but its own timeout: not before it, and not long after.
      const started = Date.now();
      expect((await consumer.next()).value).toBeNull();
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(390);
      expect(waited).toBeLessThan(3000);
    } finally {
      await consumer.close();
    }
  });

  it("nextReady and next together deliver each message once, in order, within the prefetch window", async () => {
    const { broker, queueName } = await context.setup();
    broker.declareQueue(queueName);
    for (let i = 0; i < 6; i++)
      await broker.enqueue(new Message({ queueName, actorName: "noop", args: [i] }));
    const consumer = broker.consume(queueName, { prefetch: 3, timeout: 100 });
    // What a worker does: take what is ready, else wait for the next delivery.
    const take = async (): Promise<MessageProxy> => {
      for (let i = 0; i < 40; i++) {
        const value = consumer.nextReady() ?? (await consumer.next()).value;
        if (value) return value;
      }
      throw new Error("expected a delivery");
    };
    try {
      const taken: MessageProxy[] = [];
      for (let i = 0; i < 3; i++) taken.push(await take());
      if (context.ordered) {
        expect(consumer.nextReady()).toBeUndefined();
        expect((await consumer.next()).value).toBeNull();
      }
      for (const proxy of taken) await consumer.ack(proxy);
      for (let i = 0; i < 3; i++) {
        const proxy = await take();
        taken.push(proxy);
        await consumer.ack(proxy);
      }
      expect(deliveredArgs(context, taken)).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await consumer.close();
    }
    await broker.join(queueName, { timeout: 5000 });
  });
}
