/**
 * @dq/broker-redis — a Redis broker for dq that shares queues with Python Dramatiq's RedisBroker.
 * Importing it registers the `redis://` and `rediss://` broker URL schemes.
 */
import "./register.js";

export { DEFAULT_COMMAND_TIMEOUT, RedisBroker } from "./redis-broker.js";
export { RedisConsumer } from "./redis-consumer.js";
export { ShardedRedisBroker, shardNamespace } from "./sharded-broker.js";
export type { ShardedRedisBrokerOptions } from "./sharded-broker.js";
export { NotReplicated } from "@dq/redis-connection";
export type { DurableWriteOptions } from "@dq/redis-connection";

export type { RedisBrokerOptions, QueueMessageCounts, DeadLetter } from "./redis-broker.js";
