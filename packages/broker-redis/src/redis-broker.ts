import { randomUUID } from "node:crypto";
import {
  InvalidOptionError,
  Broker,
  Message,
  QueueNotFound,
  type BrokerCapabilities,
  type ConsumeOptions,
  type Consumer,
  type JoinOptions,
  type MessageOptions,
} from "@dq/core";
import { canonicalQueueName, uuid4 } from "@dq/core/adapter";
import type { Redis } from "ioredis";
import type { AckReconciler } from "./ack-reconciler.js";
import { ReplicaWaiter } from "@dq/redis-connection";
import { RedisConnection } from "./connection.js";
import type { RedisConsumerHost, TrackedConsumer } from "./consumer-host.js";
import { DispatchClient, publishMessages, type DispatchArgument } from "./dispatch-client.js";
import { ConsumerRegistry } from "./heartbeat.js";
import {
  deadLetters,
  queueMessageCounts,
  type DeadLetter,
  type QueueMessageCounts,
} from "./inspection.js";
import { hasHashTag, parseBrokerOptions, type RedisBrokerOptions } from "./options.js";
import { enqueueRawBytes, flushQueue, joinQueue, requeueIds } from "./queue-admin.js";
import { RedisConsumer } from "./redis-consumer.js";
import { splitNamespace } from "./url.js";
import { WakeupHub } from "./wakeup-hub.js";

export { DEFAULT_COMMAND_TIMEOUT, type RedisBrokerOptions } from "./options.js";
export type { DeadLetter, QueueMessageCounts } from "./inspection.js";

/**
 * A broker on Redis, sharing queues with Python Dramatiq's `RedisBroker`: the same keys, the same
 * command semantics (one Lua `dispatch` script, called with EVALSHA), the same heartbeats and
 * maintenance. dq adds pipelined bulk enqueues, prefetching fetches, Pub/Sub wake-ups for idle
 * consumers, and a heartbeat timer that keeps long-running messages from being requeued.
 *
 * The broker wires its parts: the connection and its policy (connection.ts), the dispatch script
 * client with the encoded enqueues and the ack batcher (dispatch-client.ts), the consumers with
 * heartbeat and ack reconciliation (heartbeat.ts, redis-consumer.ts), Pub/Sub (wakeup-hub.ts),
 * queue-level calls (queue-admin.ts) and inspection.
 */
export class RedisBroker extends Broker implements RedisConsumerHost {
  readonly namespace: string;
  /** This broker's id in `__heartbeats__` and `__acks__.<id>.<queue>`. */
  readonly brokerId = randomUUID();
  readonly heartbeatTimeout: number;
  readonly deadMessageTtl: number;
  readonly maintenanceChance: number;
  /** The ioredis client for commands. */
  readonly client: Redis;
  /** @internal */
  readonly wakeups: WakeupHub;
  /** @internal Reconciles the ack sets with what the consumers hold (see AckReconciler). */
  readonly acks: AckReconciler;
  private readonly connection: RedisConnection;
  private readonly dispatcher: DispatchClient;
  private readonly registry: ConsumerRegistry;
  private readonly replicaWaiter: ReplicaWaiter | undefined;

  /**
   * @throws InvalidOptionError on a negative timeout, TTL or chance
   */
  constructor(options: RedisBrokerOptions = {}) {
    super(options);
    const fromUrl = splitNamespace(options.url);
    this.namespace =
      options.namespace ?? fromUrl.namespace ?? (options.cluster ? "{dramatiq}" : "dramatiq");
    if (options.cluster && !hasHashTag(this.namespace))
      throw new InvalidOptionError(
        `invalid namespace ${JSON.stringify(this.namespace)} for a Redis Cluster: expected a hash tag such as "{${this.namespace}}", so that every key of the queues lives in one slot`,
      );
    const settings = parseBrokerOptions(options);
    this.heartbeatTimeout = settings.heartbeatTimeout;
    this.deadMessageTtl = settings.deadMessageTtl;
    this.maintenanceChance = settings.maintenanceChance;
    const lostTrack = () => this.acks.markUnreconciled();
    this.connection = new RedisConnection(
      options,
      fromUrl.url,
      this.namespace,
      this.brokerId,
      this.logger,
      lostTrack,
    );
    this.client = this.connection.client;
    if (settings.durableEnqueue)
      this.replicaWaiter = new ReplicaWaiter(
        this.client,
        this.connection.where,
        settings.durableEnqueue,
        (command) => this.connection.command(command),
      );
    this.dispatcher = new DispatchClient(this.connection, {
      namespace: this.namespace,
      brokerId: this.brokerId,
      heartbeatTimeout: this.heartbeatTimeout,
      deadMessageTtl: this.deadMessageTtl,
      maintenanceChance: this.maintenanceChance,
      clock: this.clock,
    });
    this.registry = new ConsumerRegistry({
      connection: this.connection,
      namespace: this.namespace,
      brokerId: this.brokerId,
      heartbeatTimeout: this.heartbeatTimeout,
      clock: this.clock,
      logger: this.logger,
      syncHandOffs: () => this.wakeups.sync(),
      requeue: (queueName, ids) => this.requeueIds(queueName, ids),
    });
    this.acks = this.registry.acks;
    this.wakeups = new WakeupHub(
      this.namespace,
      this.brokerId,
      () => this.connection.subscriber(),
      this.logger,
      {
        requeue: (queueName, id) => this.requeueIds(queueName, [id]),
        // A hand-off lost with the old connection sits in the ack set: consumers look for it.
        reconnected: lostTrack,
      },
      !options.cluster,
    );
  }

  get capabilities(): BrokerCapabilities {
    return { delay: true, deadLetters: true, exactJoin: true, requeue: true };
  }

  /**
   * @internal Runs one command of the dispatch script (`ack` and `nack` never run maintenance).
   * @throws ConnectionClosed / ConnectionFailed when Redis is lost or unreachable
   */
  dispatch(
    queueName: string,
    command: string,
    args: readonly DispatchArgument[] = [],
    options: { maintenance?: boolean } = {},
  ): Promise<unknown> {
    return this.dispatcher.dispatch(queueName, command, args, options);
  }

  /** @internal Like `dispatch`, with bulk replies as Buffers (message bytes stay bytes). */
  dispatchBuffers(
    queueName: string,
    command: string,
    args: readonly DispatchArgument[] = [],
  ): Promise<unknown> {
    return this.dispatcher.dispatchBuffers(queueName, command, args);
  }

  /** @internal Puts fetched ids back on the tail of their queue (the script wakes idle consumers). */
  requeueIds(queueName: string, ids: readonly string[]): Promise<void> {
    return requeueIds(this.dispatcher, queueName, ids);
  }

  /**
   * Adds a fresh `redisMessageId` to every enqueued copy, where Python puts it: in place when the
   * message already has one, else after the existing options (before an `eta` added by this enqueue).
   */
  protected override decorateMessage<R>(message: Message<R>): Message<R> {
    return withRedisMessageId(message);
  }

  /**
   * Enqueues the messages (see dispatch-client.ts: `enqueue`, or `enqueue_many` in chunks).
   * @throws ConnectionClosed / ConnectionFailed when Redis is lost or unreachable
   */
  protected publish(messages: readonly Message[]): Promise<void> {
    const written = publishMessages(this.dispatcher, messages);
    const replicas = this.replicaWaiter;
    if (!replicas) return written;
    const generation = replicas.generation;
    return written.then(() => replicas.afterWrite(generation));
  }

  /** @internal Stores messages a ShardedRedisBroker prepared (its middleware already ran). */
  publishPrepared(messages: readonly Message[]): Promise<void> {
    return this.publish(messages);
  }

  /**
   * Stores raw bytes on a queue as another producer would, bypassing encoding (to test bad input).
   * @returns the redis message id used
   */
  enqueueRaw(queueName: string, data: Buffer | string): Promise<string> {
    return enqueueRawBytes(this.dispatcher, queueName, data);
  }

  /**
   * Consumes `queueName` (a declared queue or its `.DQ`).
   * @param options - `prefetch` (default 1) and `timeout` in ms before `next()` yields null (default 5000)
   * @throws QueueNotFound when the queue was never declared
   */
  consume(queueName: string, options: ConsumeOptions = {}): Consumer {
    if (!this.queues.has(canonicalQueueName(queueName))) {
      throw new QueueNotFound(`queue ${JSON.stringify(queueName)} is not declared on this broker`);
    }
    const consumer = new RedisConsumer(
      this,
      queueName,
      Math.max(1, options.prefetch ?? 1),
      Math.max(1, options.timeout ?? 5000),
    );
    this.registry.add(consumer);
    return consumer;
  }

  /** @internal A consumer closed: it stays known while the worker still settles its deliveries. */
  forgetConsumer(consumer: TrackedConsumer): void {
    this.registry.forget(consumer);
  }

  /** @internal A closed consumer settled its last delivery. */
  retiredConsumerSettled(consumer: TrackedConsumer): void {
    this.registry.retiredSettled(consumer);
  }

  /** Drops every message of a queue and its delay queue, and its dead letters. */
  flush(queueName: string): Promise<void> {
    return flushQueue(this.dispatcher, queueName);
  }

  /** Flushes every declared queue. */
  async flushAll(): Promise<void> {
    for (const queueName of this.queues) await this.flush(queueName);
  }

  /**
   * Polls `qsize` (queued + in-flight of `q` and `q.DQ`) every `interval` ms until it is 0.
   * @throws QueueJoinTimeout after `timeout` ms
   */
  join(queueName: string, options: JoinOptions & { interval?: number } = {}): Promise<void> {
    return joinQueue(this.dispatcher, queueName, options);
  }

  /**
   * Counts a queue's messages with plain reads (no maintenance, no heartbeat).
   * @throws ConnectionClosed / ConnectionFailed when Redis is lost or unreachable
   */
  getQueueMessageCounts(queueName: string): Promise<QueueMessageCounts> {
    return queueMessageCounts(this.connection, this.namespace, queueName);
  }

  /**
   * Lists a queue's dead letters (from `ns:q.XQ`), oldest first.
   * @throws ConnectionClosed / ConnectionFailed when Redis is lost or unreachable
   */
  getDeadLetters(queueName: string): Promise<DeadLetter[]> {
    return deadLetters(this.connection, this.namespace, queueName);
  }

  /** Closes the consumers (returning their prefetched messages) and the connections it opened. */
  override async close(): Promise<void> {
    if (this.connection.closed) return;
    for (const consumer of this.registry.consumers) await consumer.close().catch(() => undefined);
    this.connection.closed = true;
    this.registry.stopHeartbeat();
    await this.wakeups.close();
    await this.connection.close();
  }
}

function lastKey(object: object): string | undefined {
  let last: string | undefined;
  for (const key in object) last = key;
  return last;
}

/**
 * A copy of `message` with a fresh `redisMessageId`, where Python puts it: in place when the
 * message already has one, else after the existing options (before an `eta` added by this enqueue).
 */
export function withRedisMessageId<R>(message: Message<R>): Message<R> {
  const id = uuid4();
  const current = message.options;
  let options: MessageOptions;
  if ("redisMessageId" in current) {
    options = { ...current, redisMessageId: id };
  } else if ("eta" in current && lastKey(current) === "eta") {
    const { eta, ...rest } = current;
    options = { ...rest, redisMessageId: id, eta };
  } else {
    options = { ...current, redisMessageId: id };
  }
  return new Message<R>({
    queueName: message.queueName,
    actorName: message.actorName,
    args: message.args,
    kwargs: message.kwargs,
    options,
    messageId: message.messageId,
    messageTimestamp: message.messageTimestamp,
  });
}
