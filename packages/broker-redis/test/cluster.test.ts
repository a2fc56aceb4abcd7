import { afterAll, beforeAll, expect, it } from "@jest/globals";
import {
  loadWireFixture,
  PrivateRedisCluster,
  restoreRedisRecording,
  withEta,
  type RecordedRedisKey,
} from "@dq/core/testing";
import { Cluster } from "ioredis";
import { actor, InvalidOptionError, Worker } from "@dq/core";
import { defineBrokerTests } from "@dq/test-suite";
import { RedisBroker, ShardedRedisBroker } from "../src/index.js";
import { describeWithRedis, uniqueNamespace, waitFor } from "./helpers.js";

// Issue 24: on a Redis Cluster of three masters (the test's own), a hash-tagged namespace keeps
// Dramatiq's keyspace in one slot, and the broker passes the conformance suite unchanged.
describeWithRedis("RedisBroker on a Redis Cluster (hash-tagged namespace)", () => {
  let cluster: PrivateRedisCluster | undefined;
  const nodes = () => cluster!.startupNodes;

  beforeAll(async () => {
    cluster = await PrivateRedisCluster.start(3);
  }, 90_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  it("refuses a namespace without a hash tag, naming it", () => {
    expect(
      () => new RedisBroker({ cluster: [{ host: "127.0.0.1", port: 1 }], namespace: "app" }),
    ).toThrow(InvalidOptionError);
    expect(
      () => new RedisBroker({ cluster: [{ host: "127.0.0.1", port: 1 }], namespace: "app" }),
    ).toThrow('invalid namespace "app" for a Redis Cluster: expected a hash tag such as "{app}"');
  });

  it("runs the messages Python Dramatiq wrote (redis-enqueued.json) under a hash-tagged namespace", async () => {
    const recording = loadWireFixture<{ keys: Record<string, RecordedRedisKey> }>(
      "redis-enqueued.json",
    );
    const namespace = `{${uniqueNamespace()}}`;
    // Python's keys, byte for byte, under the namespace: all in the namespace's one slot.
    const writer = new Cluster(nodes());
    await restoreRedisRecording(writer, recording.keys, namespace, (key, data) =>
      key.endsWith(".DQ.msgs") ? withEta(data, Date.now()) : data,
    );
    writer.disconnect();
    const broker = new RedisBroker({ cluster: nodes(), namespace });
    const seen: unknown[][] = [];
    actor(
      function add(x: number, y: number | { y: number }) {
        seen.push([x, y]);
        return x + (typeof y === "object" ? y.y : y);
      },
      { broker, queueName: "fx", maxRetries: 0 },
    );
    actor(function done(..._args: unknown[]) {}, { broker, queueName: "fx" });
    const worker = new Worker(broker, { workerTimeout: 100 });
    try {
      await worker.start();
      await waitFor(() => seen.length === 9, "the 9 recorded add messages");
      await broker.join("fx", { timeout: 10_000 });
      expect(seen).toEqual(
        expect.arrayContaining([
          [1, 2],
          [3, 4],
          [1, 1],
          [10, 2],
        ]),
      );
    } finally {
      await worker.stop({ timeout: 5000 });
      await broker.close();
    }
  }, 60_000);

  defineBrokerTests(
    "RedisBroker (cluster)",
    (options) =>
      new RedisBroker({ cluster: nodes(), namespace: `{${uniqueNamespace()}}`, ...options }),
    {
      async deadLetterIds(broker, queueName) {
        const letters = await (broker as RedisBroker).getDeadLetters(queueName);
        return letters.map((letter) => letter.message?.messageId ?? letter.redisMessageId);
      },
      async enqueueRaw(broker, queueName, data) {
        await (broker as RedisBroker).enqueueRaw(queueName, data);
      },
    },
  );

  defineBrokerTests(
    "ShardedRedisBroker (cluster, 3 shards)",
    (options) =>
      new ShardedRedisBroker({
        cluster: nodes(),
        namespace: uniqueNamespace(),
        shards: 3,
        ...options,
      }),
    {
      async deadLetterIds(broker, queueName) {
        const letters = await (broker as ShardedRedisBroker).getDeadLetters(queueName);
        return letters.map((letter) => letter.message?.messageId ?? letter.redisMessageId);
      },
      // Order holds per shard only; each shard's consumer has its own prefetch window.
      ordered: false,
      async enqueueRaw(broker, queueName, data) {
        await (broker as ShardedRedisBroker).enqueueRaw(queueName, data);
      },
    },
  );
});
