import { afterAll, expect, it } from "@jest/globals";
import { Message } from "@dq/core";
import { RedisBroker } from "../src/index.js";
import type { RedisConsumer } from "../src/redis-consumer.js";
import { deleteNamespaces, describeWithRedis, plainClient, redisUrl, uniqueNamespace, waitFor } from "./helpers.js";

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

/**
 * A worker broker that listens for hand-offs through an idle consumer of "other" (none of q),
 * a producer on the same namespace, and a plain client; `finish` releases the consumer and closes all.
 */
async function listeningElsewhere() {
  const namespace = uniqueNamespace();
  const worker = newBroker(namespace);
  const producer = newBroker(namespace);
  const redis = plainClient();
  const other = worker.consume("other", { prefetch: 1, timeout: 10_000 }) as RedisConsumer;
  const pending = other.next();
  const finish = async () => {
    try {
      await producer.enqueueMany([new Message({ queueName: "other", actorName: "a", args: [] })]);
      await pending;
    } finally {
      await other.close();
      await worker.close();
      await producer.close();
      redis.disconnect();
    }
  };
  try {
    await waitFor(async () => (await redis.zscore(`${namespace}:__waiting__.other`, worker.brokerId)) !== null, "the registration");
  } catch (error) {
    await finish();
    throw error;
  }
  return { namespace, worker, producer, redis, finish };
}

describeWithRedis("RedisBroker hand-offs to idle consumers", () => {
  afterAll(() => deleteNamespaces(namespaces));

  it("hands a message enqueued onto an empty queue straight to a waiting consumer, already in its ack set", async () => {
    const namespace = uniqueNamespace();
    const worker = newBroker(namespace);
    const producer = newBroker(namespace);
    const redis = plainClient();
    const consumer = worker.consume("q", { prefetch: 4, timeout: 10_000 }) as RedisConsumer;
    try {
      const waiting = `${namespace}:__waiting__.q`;
      const pending = consumer.next();
      await waitFor(async () => (await redis.zscore(waiting, worker.brokerId)) !== null, "the consumer's registration");
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
    } finally {
      await consumer.close();
      await worker.close();
      await producer.close();
      redis.disconnect();
    }
  });

  it("keeps FIFO: while messages wait on the list, an enqueue goes behind them", async () => {
    const { namespace, worker, producer, redis, finish } = await listeningElsewhere();
    try {
      // A listening broker registered for q, and a message already queued (a Python producer's).
      await redis.zadd(`${namespace}:__waiting__.q`, Date.now(), worker.brokerId);
      await redis.rpush(`${namespace}:q`, "earlier");
      const [sent] = await producer.enqueueMany([message(2)]);
      expect(await redis.lrange(`${namespace}:q`, 0, -1)).toEqual(["earlier", sent!.options.redisMessageId]);
      expect(await redis.zscore(`${namespace}:__waiting__.q`, worker.brokerId)).not.toBeNull();
    } finally {
      await finish();
    }
  });

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

  it("requeues a hand-off that reaches a broker with no consumer of that queue", async () => {
    const { namespace, worker, producer, redis, finish } = await listeningElsewhere();
    try {
      await redis.zadd(`${namespace}:__waiting__.q`, Date.now(), worker.brokerId);
      const [sent] = await producer.enqueueMany([message(4)]);
      const id = sent!.options.redisMessageId!;
      await waitFor(async () => (await redis.lrange(`${namespace}:q`, 0, -1)).includes(id), "the message back on q");
      expect(await redis.sismember(`${namespace}:__acks__.${worker.brokerId}.q`, id)).toBe(0);
      expect(await redis.hexists(`${namespace}:q.msgs`, id)).toBe(1);
    } finally {
      await finish();
    }
  });

  it("returns hand-offs a closing consumer received and unregisters it", async () => {
    const namespace = uniqueNamespace();
    const worker = newBroker(namespace);
    const producer = newBroker(namespace);
    const redis = plainClient();
    const consumer = worker.consume("q", { prefetch: 4, timeout: 10_000 }) as RedisConsumer;
    try {
      const waiting = `${namespace}:__waiting__.q`;
      void consumer.next().catch(() => undefined);
      await waitFor(async () => (await redis.zscore(waiting, worker.brokerId)) !== null, "the registration");
      await redis.zadd(waiting, Date.now(), worker.brokerId);
      // Handed off while the consumer closes: it comes back to the list, nothing stays held.
      const sending = producer.enqueueMany([message(5)]);
      await consumer.close();
      const [sent] = await sending;
      const id = sent!.options.redisMessageId!;
      await waitFor(async () => (await redis.lrange(`${namespace}:q`, 0, -1)).includes(id), "the message back on q");
      expect(await redis.sismember(`${namespace}:__acks__.${worker.brokerId}.q`, id)).toBe(0);
      expect(await redis.zscore(waiting, worker.brokerId)).toBeNull();
    } finally {
      await worker.close();
      await producer.close();
      redis.disconnect();
    }
  });
});
