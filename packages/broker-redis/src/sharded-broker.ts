import {
  Broker,
  InvalidOptionError,
  type BrokerCapabilities,
  type ConsumeOptions,
  type Consumer,
  type JoinOptions,
  type Message,
} from "@dq/core";
import {
  RedisBroker,
  withRedisMessageId,
  type DeadLetter,
  type QueueMessageCounts,
} from "./redis-broker.js";
import type { RedisBrokerOptions } from "./options.js";
import { ShardedConsumer } from "./sharded-consumer.js";

/** What `new ShardedRedisBroker(options)` takes: a RedisBroker's options and the shard count. */
export interface ShardedRedisBrokerOptions extends RedisBrokerOptions {
  /** How many namespaces (`{<namespace>.0}`, `{<namespace>.1}`, ...) the queues are spread over (>= 1). */
  shards: number;
}

/** The namespace of shard `index`: a hash tag of its own, so that shards spread over a cluster's slots. */
export function shardNamespace(namespace: string, index: number): string {
  return `{${namespace}.${index}}`;
}

/**
 * A broker over N Redis namespaces for scale-out on a Redis Cluster (or N servers' worth of
 * slots): each shard is a complete Dramatiq keyspace under its own hash-tagged namespace
 * (`{dramatiq.0}`, `{dramatiq.1}`, ...), served by a RedisBroker of its own with its heartbeats,
 * orphan recovery, delay queue and dead letters. Producers spread messages over the shards in
 * turn; each consumer reads every shard. A Python Dramatiq worker can serve one shard by using its
 * namespace. Middleware runs here, once per message, not in the shards.
 */
export class ShardedRedisBroker extends Broker {
  /** The shards, in order. */
  readonly shards: readonly RedisBroker[];
  private turn = 0;

  /**
   * @throws InvalidOptionError for a shard count that is not a whole number >= 1, or a namespace with braces
   */
  constructor(options: ShardedRedisBrokerOptions) {
    const { shards, namespace = "dramatiq", middleware, ...rest } = options;
    super({ middleware, logger: options.logger, clock: options.clock });
    if (!Number.isInteger(shards) || shards < 1)
      throw new InvalidOptionError(
        `invalid shards ${String(shards)}: expected a whole number >= 1`,
      );
    if (/[{}]/.test(namespace))
      throw new InvalidOptionError(
        `invalid namespace ${JSON.stringify(namespace)} for a ShardedRedisBroker: give it without braces; each shard gets the hash tag {${namespace.replace(/[{}]/g, "")}.<n>}`,
      );
    this.shards = Array.from(
      { length: shards },
      (_, index) =>
        new RedisBroker({
          ...rest,
          logger: this.logger,
          clock: options.clock,
          namespace: shardNamespace(namespace, index),
          middleware: [],
        }),
    );
  }

  get capabilities(): BrokerCapabilities {
    return this.shards[0]!.capabilities;
  }

  protected override onDeclareQueue(queueName: string): void {
    for (const shard of this.shards) shard.declareQueue(queueName);
  }

  protected override decorateMessage<R>(message: Message<R>): Message<R> {
    return withRedisMessageId(message);
  }

  /** Spreads the messages over the shards in turn (one write per shard). */
  protected publish(messages: readonly Message[]): Promise<void> {
    const count = this.shards.length;
    if (messages.length === 1) {
      const shard = this.shards[this.turn]!;
      this.turn = (this.turn + 1) % count;
      return shard.publishPrepared(messages);
    }
    const groups: Message[][] = this.shards.map(() => []);
    for (const message of messages) {
      groups[this.turn]!.push(message);
      this.turn = (this.turn + 1) % count;
    }
    return Promise.all(
      groups.map((group, index) =>
        group.length ? this.shards[index]!.publishPrepared(group) : Promise.resolve(),
      ),
    ).then(() => undefined);
  }

  /**
   * Consumes `queueName` on every shard; each shard's consumer gets `prefetch / shards` (at least 1).
   * @throws QueueNotFound when the queue was never declared
   */
  consume(queueName: string, options: ConsumeOptions = {}): Consumer {
    const prefetch = Math.max(1, Math.ceil((options.prefetch ?? 1) / this.shards.length));
    return new ShardedConsumer(
      this.shards.map((shard) => shard.consume(queueName, { ...options, prefetch })),
    );
  }

  async flush(queueName: string): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.flush(queueName)));
  }

  async flushAll(): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.flushAll()));
  }

  /** Waits until the queue is empty on every shard. */
  async join(queueName: string, options: JoinOptions & { interval?: number } = {}): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.join(queueName, options)));
  }

  /** A queue's counts summed over the shards. */
  async getQueueMessageCounts(queueName: string): Promise<QueueMessageCounts> {
    const counts = await Promise.all(this.shards.map((s) => s.getQueueMessageCounts(queueName)));
    const sum = (key: keyof QueueMessageCounts) => counts.reduce((total, c) => total + c[key], 0);
    return {
      ready: sum("ready"),
      inFlight: sum("inFlight"),
      delayed: sum("delayed"),
      deadLettered: sum("deadLettered"),
    };
  }

  /** A queue's dead letters on every shard, oldest first. */
  async getDeadLetters(queueName: string): Promise<DeadLetter[]> {
    const letters = await Promise.all(this.shards.map((shard) => shard.getDeadLetters(queueName)));
    return letters.flat().sort((a, b) => a.deadLetteredAt - b.deadLetteredAt);
  }

  /** Stores raw bytes on a queue of one shard (the next in turn), as another producer would. */
  enqueueRaw(queueName: string, data: Buffer | string): Promise<string> {
    const shard = this.shards[this.turn]!;
    this.turn = (this.turn + 1) % this.shards.length;
    return shard.enqueueRaw(queueName, data);
  }

  override async close(): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.close()));
  }
}
