import type { Logger } from "@dq/core";
import type { Clock } from "@dq/core/adapter";
import { AckReconciler } from "./ack-reconciler.js";
import type { RedisConnection } from "./connection.js";
import type { TrackedConsumer } from "./consumer-host.js";

/** How long a broker's `__consumed__` record outlives its last beat or fetch (as in the script). */
const CONSUMED_TTL = 604_800_000;

/** What the consumer registry needs from its broker. */
export interface ConsumerRegistryOptions {
  readonly connection: RedisConnection;
  readonly namespace: string;
  readonly brokerId: string;
  readonly heartbeatTimeout: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Resolves once every hand-off published to this broker so far is received. */
  syncHandOffs(): Promise<boolean>;
  /** Requeues ids of this broker's ack set of a queue. */
  requeue(queueName: string, ids: readonly string[]): Promise<void>;
}

/**
 * A RedisBroker's consumers, live and retired (closed, with deliveries still to settle), its
 * heartbeat while it has any, and the reconciliation of its ack sets with what they hold (orphan
 * recovery while the broker lives; maintenance in the script recovers a dead broker's).
 */
export class ConsumerRegistry {
  private readonly live = new Set<TrackedConsumer>();
  /** Closed consumers whose deliveries are still being processed (acked later through them). */
  private readonly retired = new Set<TrackedConsumer>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** Reconciles the ack sets with what the consumers hold (see AckReconciler). */
  readonly acks: AckReconciler;

  constructor(private readonly options: ConsumerRegistryOptions) {
    const { connection, namespace, brokerId } = options;
    this.acks = new AckReconciler({
      logger: options.logger,
      holders: (queueName) =>
        [...this.live, ...this.retired].filter((consumer) => consumer.queueName === queueName),
      readAckSet: (queueName) =>
        connection.command(() =>
          connection.client.smembers(`${namespace}:__acks__.${brokerId}.${queueName}`),
        ),
      syncHandOffs: () => options.syncHandOffs(),
      requeue: (queueName, ids) => options.requeue(queueName, ids),
    });
  }

  /** The live consumers. */
  get consumers(): TrackedConsumer[] {
    return [...this.live];
  }

  /** A new consumer: the broker beats while it has one. */
  add(consumer: TrackedConsumer): void {
    this.live.add(consumer);
    this.startHeartbeat();
  }

  /** A consumer closed: it stays known while the worker still settles its deliveries. */
  forget(consumer: TrackedConsumer): void {
    this.live.delete(consumer);
    if (consumer.outstanding > 0) this.retired.add(consumer);
    if (this.live.size === 0 && this.retired.size === 0) this.stopHeartbeat();
  }

  /** A closed consumer settled its last delivery. */
  retiredSettled(consumer: TrackedConsumer): void {
    if (!this.retired.delete(consumer)) return;
    if (this.live.size === 0 && this.retired.size === 0) this.stopHeartbeat();
  }

  // Beats independently of fetches so that a worker busy with long messages (prefetch full, no
  // fetch calls) is not taken for dead and has its messages requeued (Dramatiq #692).
  private startHeartbeat(): void {
    const { connection, namespace, brokerId, clock, logger } = this.options;
    if (this.heartbeatTimer || connection.closed) return;
    const interval = Math.max(10, Math.min(15_000, Math.floor(this.options.heartbeatTimeout / 4)));
    const record = `${namespace}:__consumed__.${brokerId}`;
    const beat = () => {
      // The record of the queues it consumes comes with the entry (one MULTI): maintenance finds
      // every ack set of this broker from it, should it die, and removes its entry.
      const queues = [
        ...new Set([...this.live, ...this.retired].map((consumer) => consumer.queueName)),
      ];
      const transaction = connection.client.multi();
      if (queues.length) transaction.sadd(record, ...queues).pexpire(record, CONSUMED_TTL);
      transaction.zadd(`${namespace}:__heartbeats__`, clock.now(), brokerId);
      transaction.exec().then(
        () => undefined,
        (error: unknown) => logger.debug("Could not refresh the heartbeat.", error),
      );
    };
    beat();
    this.heartbeatTimer = setInterval(beat, interval);
    this.heartbeatTimer.unref();
  }

  /** Stops beating (the broker closes). */
  stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }
}
