import { afterAll, expect, it } from "@jest/globals";
import { Message, type MessageProxy } from "@dq/core";
import { RedisBroker } from "../src/index.js";
import type { RedisConsumer } from "../src/redis-consumer.js";
import {
  deleteNamespaces,
  describeWithRedis,
  plainClient,
  redisUrl,
  uniqueNamespace,
  waitFor,
} from "./helpers.js";

const namespaces = new Set<string>();

function newBroker(namespace: string): RedisBroker {
  namespaces.add(namespace);
  const broker = new RedisBroker({ url: redisUrl, namespace, maintenanceChance: 0 });
  broker.declareQueue("q");
  broker.declareQueue("other");
  return broker;
}

/** Records the dispatch commands a broker sends. */
function recordCommands(broker: RedisBroker): string[] {
  const commands: string[] = [];
  const dispatch = broker.dispatch.bind(broker);
  const dispatchBuffers = broker.dispatchBuffers.bind(broker);
  broker.dispatch = (queueName, command, args, options) => {
    commands.push(`${command} ${queueName}`);
    return dispatch(queueName, command, args, options);
  };
  broker.dispatchBuffers = (queueName, command, args) => {
    commands.push(`${command} ${queueName}`);
    return dispatchBuffers(queueName, command, args);
  };
  return commands;
}

const message = (n: number) => new Message({ queueName: "q", actorName: "a", args: [n] });

interface IdleConsumer {
  namespace: string;
  worker: RedisBroker;
  producer: RedisBroker;
  redis: ReturnType<typeof plainClient>;
  consumer: RedisConsumer;
  /** The consumer's first `next()`, started before its registration was seen. */
  pending: Promise<IteratorResult<MessageProxy | null>>;
  /** Registers the worker broker as waiting on q, as an idle consumer of q would have. */
  registerForQ: () => Promise<unknown>;
}

/**
 * Runs `body` with a worker broker whose consumer of `queueName` is idle and registered for
 * hand-offs, a producer on the same namespace, and a plain client; closes them after.
 */
async function withIdleConsumer(
  queueName: "q" | "other",
  body: (context: IdleConsumer) => Promise<void>,
): Promise<void> {
  const namespace = uniqueNamespace();
  const worker = newBroker(namespace);
  const producer = newBroker(namespace);
  const redis = plainClient();
  const consumer = worker.consume(queueName, { prefetch: 4, timeout: 10_000 }) as RedisConsumer;
  const pending = consumer.next();
  try {
    await waitFor(
      async () =>
        (await redis.zscore(`${namespace}:__waiting__.${queueName}`, worker.brokerId)) !== null,
      "the registration",
    );
    const registerForQ = () =>
      redis.zadd(`${namespace}:__waiting__.q`, Date.now(), worker.brokerId);
    await body({ namespace, worker, producer, redis, consumer, pending, registerForQ });
  } finally {
    await consumer.close();
    await pending.catch(() => undefined);
    await worker.close();
    await producer.close();
    redis.disconnect();
  }
}

describeWithRedis("RedisBroker hand-offs to idle consumers", () => {
  afterAll(() => deleteNamespaces(namespaces));

  it("hands a message enqueued onto an empty queue straight to a waiting consumer, already in its ack set", () =>
    withIdleConsumer("q", async ({ namespace, worker, producer, redis, consumer, pending }) => {
      const waiting = `${namespace}:__waiting__.q`;
      const commands = recordCommands(worker);
      const [sent] = await producer.enqueueMany([message(1)]);
      const id = sent!.options.redisMessageId!;
      // Taken by the consumer without a fetch: the id went to its ack set, never onto the list.
      expect(await redis.sismember(`${namespace}:__acks__.${worker.brokerId}.q`, id)).toBe(1);
      expect(await redis.llen(`${namespace}:q`)).toBe(0);
      expect(await redis.zcard(waiting)).toBe(0);
      const result = await pending;
      if (result.done || !result.value) throw new Error("expected a delivery");
      expect(result.value.args).toEqual([1]);
      expect(result.value.options.redisMessageId).toBe(id);
      expect(commands.filter((command) => command.startsWith("fetch"))).toEqual([]);

      // Its ack finds the queue empty again and registers in the same call.
      await consumer.ack(result.value);
      expect(commands).toEqual(["ack_fetch q"]);
      expect(await redis.zscore(waiting, worker.brokerId)).not.toBeNull();
      expect(await redis.hlen(`${namespace}:q.msgs`)).toBe(0);
      expect(await redis.exists(`${namespace}:__acks__.${worker.brokerId}.q`)).toBe(0);
    }));

  it("keeps FIFO: while messages wait on the list, an enqueue goes behind them", () =>
    withIdleConsumer("other", async ({ namespace, worker, producer, redis, registerForQ }) => {
      // A listening broker registered for q, and a message already queued (a Python producer's).
      await registerForQ();
      await redis.rpush(`${namespace}:q`, "earlier");
      const [sent] = await producer.enqueueMany([message(2)]);
      expect(await redis.lrange(`${namespace}:q`, 0, -1)).toEqual([
        "earlier",
        sent!.options.redisMessageId,
      ]);
      expect(await redis.zscore(`${namespace}:__waiting__.q`, worker.brokerId)).not.toBeNull();
    }));

  it("drops registrations of brokers that no longer listen and queues the message as usual", async () => {
    const namespace = uniqueNamespace();
    const producer = newBroker(namespace);
    const redis = plainClient();
    try {
      const waiting = `${namespace}:__waiting__.q`;
      await redis.zadd(waiting, 1, "gone-broker-1", 2, "gone-broker-2");
      const [sent] = await producer.enqueueMany([message(3)]);
      expect(await redis.lrange(`${namespace}:q`, 0, -1)).toEqual([sent!.options.redisMessageId]);
      expect(await redis.zcard(waiting)).toBe(0);
      expect(await redis.keys(`${namespace}:__acks__.gone-broker-*`)).toEqual([]);
    } finally {
      await producer.close();
      redis.disconnect();
    }
  });

  it("requeues a hand-off that reaches a broker with no consumer of that queue", () =>
    withIdleConsumer("other", async ({ namespace, worker, producer, redis, registerForQ }) => {
      await registerForQ();
      const [sent] = await producer.enqueueMany([message(4)]);
      const id = sent!.options.redisMessageId!;
      await waitFor(
        async () => (await redis.lrange(`${namespace}:q`, 0, -1)).includes(id),
        "the message back on q",
      );
      expect(await redis.sismember(`${namespace}:__acks__.${worker.brokerId}.q`, id)).toBe(0);
      expect(await redis.hexists(`${namespace}:q.msgs`, id)).toBe(1);
    }));

  it("returns hand-offs a closing consumer received and unregisters it", () =>
    withIdleConsumer(
      "q",
      async ({ namespace, worker, producer, redis, consumer, registerForQ }) => {
        await registerForQ();
        // Handed off while the consumer closes: it comes back to the list, nothing stays held.
        const sending = producer.enqueueMany([message(5)]);
        await consumer.close();
        const [sent] = await sending;
        const id = sent!.options.redisMessageId!;
        await waitFor(
          async () => (await redis.lrange(`${namespace}:q`, 0, -1)).includes(id),
          "the message back on q",
        );
        expect(await redis.sismember(`${namespace}:__acks__.${worker.brokerId}.q`, id)).toBe(0);
        expect(await redis.zscore(`${namespace}:__waiting__.q`, worker.brokerId)).toBeNull();
      },
    ));
});
