import type { Logger } from "@dq/core";
import type { AckHolder, AckReconciler } from "./ack-reconciler.js";
import type { DispatchArgument } from "./dispatch-client.js";
import type { WakeupHub } from "./wakeup-hub.js";

/** A consumer as its broker tracks it (for heartbeats, ack reconciliation and retirement). */
export interface TrackedConsumer extends AckHolder {
  /** The queue it consumes (`q` or `q.DQ`). */
  readonly queueName: string;
  /** Messages delivered by it and not yet settled, buffered ones included. */
  readonly outstanding: number;
  /** Stops it (the broker closes). */
  close(): Promise<void>;
}

/**
 * What a `RedisConsumer` needs from its broker (a `RedisBroker` is one): the dispatch calls, the
 * Pub/Sub hub, the ack reconciler and the consumer registry. The consumer depends on this, not on
 * `RedisBroker`.
 */
export interface RedisConsumerHost {
  readonly logger: Logger;
  readonly namespace: string;
  readonly wakeups: Pick<WakeupHub, "listen" | "acceptsHandOffs" | "sync">;
  readonly acks: AckReconciler;
  /** Runs one dispatch command, string replies. */
  dispatch(
    queueName: string,
    command: string,
    args?: readonly DispatchArgument[],
    options?: { maintenance?: boolean },
  ): Promise<unknown>;
  /** Runs one dispatch command, bulk replies as Buffers. */
  dispatchBuffers(
    queueName: string,
    command: string,
    args?: readonly DispatchArgument[],
  ): Promise<unknown>;
  /** Puts ids of this broker's ack set back on the tail of their queue. */
  requeueIds(queueName: string, ids: readonly string[]): Promise<void>;
  /** A consumer closed: it stays known while its deliveries are still settled. */
  forgetConsumer(consumer: TrackedConsumer): void;
  /** A closed consumer settled its last delivery. */
  retiredConsumerSettled(consumer: TrackedConsumer): void;
}
