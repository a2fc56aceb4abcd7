import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { InvalidOptionError } from "@dq/core";
import { PrivateRedisCluster } from "@dq/core/testing";
import { defineBrokerTests } from "@dq/test-suite";
import { RedisBroker, ShardedRedisBroker } from "../src/index.js";
import { describeWithRedis, uniqueNamespace } from "./helpers.js";

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
