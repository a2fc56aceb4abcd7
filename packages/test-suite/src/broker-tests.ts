import { afterEach, describe, expect, it } from "@jest/globals";
import {
  actor,
  Message,
  Middleware,
  QueueJoinTimeout,
  Retries,
  Worker,
  defaultMiddleware,
  type Broker,
  type Logger,
  type MessageProxy,
  type ProcessOutcome,
} from "@dq/core";
import { recordingLogger, uniqueQueueName, waitFor } from "@dq/core/testing";
import { defineConsumerCases } from "./consumer-tests.js";
import { defineDeadLetterCases } from "./dead-letter-tests.js";
import { defineSettlementCases } from "./settlement-tests.js";

/** What a broker's conformance run may skip or needs to reach into. */
export interface BrokerTestCapabilities {
  /** Delayed messages through `.DQ` (default true). */
  delay?: boolean;
  /** Nacked messages go to a dead-letter queue that `deadLetterIds` can list (default true). */
  deadLetters?: boolean;
  /** `requeue` puts delivered messages back (default true). */
  requeue?: boolean;
  /**
   * One consumer delivers a queue's messages in enqueue order, and its `prefetch` bounds what it
   * holds (default true). A broker that spreads a queue over shards delivers in order per shard
   * only, and bounds each shard's consumer: the consumer cases then check the set delivered.
   */
  ordered?: boolean;
  /** Lists the message ids in a queue's dead-letter queue. */
  deadLetterIds?: (broker: Broker, queueName: string) => Promise<string[]>;
  /** Puts raw bytes on a queue as another producer would (to test undecodable payloads). */
  enqueueRaw?: (broker: Broker, queueName: string, data: Buffer) => Promise<void>;
}

/** Builds a fresh broker for one test; `middleware` and `logger` must be passed to it. */
export type BrokerFactory = (options: {
  middleware?: Middleware[];
  logger?: Logger;
}) => Broker | Promise<Broker>;

/**
 * The broker contract as jest tests. Call it at the top level of a test file:
 * `defineBrokerTests("RedisBroker", (options) => new RedisBroker({ url, ...options }))`.
 * Each test declares its own uniquely named queue and closes its broker.
 */
export function defineBrokerTests(
  name: string,
  factory: BrokerFactory,
  capabilities: BrokerTestCapabilities = {},
): void {
  const caps = { delay: true, deadLetters: true, requeue: true, ordered: true, ...capabilities };
  const cleanups: (() => Promise<unknown>)[] = [];

  async function setup(middleware?: Middleware[]) {
    const logger = recordingLogger();
    const broker = await factory({ middleware, logger });
    const queueName = uniqueQueueName();
    cleanups.push(async () => {
      await broker.flush(queueName).catch(() => undefined);
      await broker.close();
    });
    return { broker, queueName, logger };
  }

  async function startWorker(
    broker: Broker,
    options: ConstructorParameters<typeof Worker>[1] = {},
  ) {
    const worker = new Worker(broker, { workerTimeout: 100, ...options });
    cleanups.unshift(() => worker.stop({ timeout: 5000 }));
    await worker.start();
    return worker;
  }

  const fastRetries = () => [
    ...defaultMiddleware().filter((m) => !(m instanceof Retries)),
    new Retries({ minBackoff: 10, maxBackoff: 50 }),
  ];

  describe(`${name}: broker contract`, () => {
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });

    defineConsumerCases({ setup, ordered: caps.ordered });

    it("runs actors through a worker and join waits for them", async () => {
      const { broker, queueName } = await setup();
      const seen: number[] = [];
      const work = actor(
        async function conformanceWork(x: number) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          seen.push(x);
        },
        { broker, queueName },
      );
      await startWorker(broker);
      for (let i = 0; i < 20; i++) await work.send(i);
      await broker.join(queueName, { timeout: 10_000 });
      await waitFor(() => seen.length === 20, "20 messages");
      expect([...seen].sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    });

    it("join times out with QueueJoinTimeout when nothing consumes", async () => {
      const { broker, queueName } = await setup();
      broker.declareQueue(queueName);
      await broker.enqueue(new Message({ queueName, actorName: "nobody" }));
      await expect(broker.join(queueName, { timeout: 200 })).rejects.toBeInstanceOf(
        QueueJoinTimeout,
      );
    });

    it("flush drops a queue's messages", async () => {
      const { broker, queueName } = await setup();
      broker.declareQueue(queueName);
      for (let i = 0; i < 3; i++)
        await broker.enqueue(new Message({ queueName, actorName: "noop" }));
      await broker.flush(queueName);
      await broker.join(queueName, { timeout: 2000 });
      const consumer = broker.consume(queueName, { prefetch: 1, timeout: 100 });
      try {
        expect((await consumer.next()).value).toBeNull();
      } finally {
        await consumer.close();
      }
    });

    it("runs before hooks in order and after hooks in reverse, awaiting async hooks", async () => {
      const calls: string[] = [];
      class Recorder extends Middleware {
        constructor(private readonly label: string) {
          super();
        }
        override async beforeProcessMessage() {
          await new Promise((resolve) => setTimeout(resolve, 1));
          calls.push(`before:${this.label}`);
        }
        override afterProcessMessage(
          _broker: Broker,
          _message: MessageProxy,
          outcome: ProcessOutcome,
        ) {
          calls.push(`after:${this.label}:${String(outcome.result)}`);
        }
        override beforeAck() {
          calls.push(`beforeAck:${this.label}`);
        }
        override afterAck() {
          calls.push(`afterAck:${this.label}`);
        }
      }
      const { broker, queueName } = await setup([
        ...defaultMiddleware(),
        new Recorder("a"),
        new Recorder("b"),
      ]);
      const hooked = actor(
        function hooked() {
          calls.push("actor");
          return 7;
        },
        { broker, queueName },
      );
      await startWorker(broker);
      await hooked.send();
      await broker.join(queueName, { timeout: 5000 });
      await waitFor(() => calls.length === 9, "every hook");
      expect(calls).toEqual([
        "before:a",
        "before:b",
        "actor",
        "after:b:7",
        "after:a:7",
        "beforeAck:a",
        "beforeAck:b",
        "afterAck:b",
        "afterAck:a",
      ]);
    });

    it("retries a failing actor until it succeeds, counting retries in options", async () => {
      const { broker, queueName } = await setup(fastRetries());
      const attempts: number[] = [];
      const flaky = actor(
        function flaky() {
          const retries = attempts.length;
          attempts.push(retries);
          if (retries < 2) throw new Error(`attempt ${retries} fails`);
          return "ok";
        },
        { broker, queueName, maxRetries: 5 },
      );
      await startWorker(broker);
      await flaky.send();
      await waitFor(() => attempts.length === 3, "three attempts");
      await broker.join(queueName, { timeout: 5000 });
      expect(attempts).toEqual([0, 1, 2]);
    });

    if (caps.delay) {
      it("delays a message through the delay queue until its eta", async () => {
        const { broker, queueName } = await setup();
        const ranAt: number[] = [];
        const later = actor(
          function later() {
            ranAt.push(Date.now());
          },
          { broker, queueName },
        );
        await startWorker(broker);
        const sentAt = Date.now();
        const enqueued = await later.sendWithOptions({ delay: 300 });
        expect(enqueued.queueName).toBe(`${queueName}.DQ`);
        expect(enqueued.options.eta).toBeGreaterThanOrEqual(sentAt + 300);
        await waitFor(() => ranAt.length === 1, "the delayed message");
        expect(ranAt[0]! - sentAt).toBeGreaterThanOrEqual(290);
        await broker.join(queueName, { timeout: 5000 });
      });
    }

    if (caps.deadLetters && caps.deadLetterIds) {
      defineDeadLetterCases({
        setup,
        startWorker,
        fastRetries,
        deadLetterIds: caps.deadLetterIds.bind(caps),
        enqueueRaw: caps.enqueueRaw?.bind(caps),
      });
    }

    if (caps.requeue) {
      it("a stopping worker returns the messages it holds, and another worker runs them", async () => {
        const { broker, queueName } = await setup();
        const done: number[] = [];
        const slow = actor(
          async function slow(x: number) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            done.push(x);
          },
          { broker, queueName },
        );
        const first = await startWorker(broker, { concurrency: 1, queuePrefetch: 10 });
        for (let i = 0; i < 30; i++) await slow.send(i);
        await waitFor(() => done.length >= 2, "the first messages");
        await first.stop({ timeout: 5000 });
        const after = done.length;
        expect(after).toBeLessThan(30);
        await startWorker(broker, { concurrency: 4 });
        await waitFor(() => new Set(done).size === 30, "all 30 messages", 20_000);
        await broker.join(queueName, { timeout: 5000 });
      });
    }

    defineSettlementCases({
      setup,
      startWorker,
      fastRetries,
      requeue: caps.requeue,
      deadLetterIds: caps.deadLetters ? caps.deadLetterIds?.bind(caps) : undefined,
    });
  });
}
