/**
 * Delayed messages past RabbitMQ's `consumer_timeout` (Dramatiq #827): a delivery of a delay queue
 * whose eta is further away than the part of the timeout dq may hold it for is not handed to the
 * worker. It is kept unacked until that time, then re-published to the same delay queue, bytes and
 * eta unchanged, and acked once RabbitMQ has the copy. The server never sees a delivery held past its
 * timeout, so it never closes the channel and requeues in a loop; the copy comes back and is handed
 * to the worker once its eta is near. (A crash between the copy and the ack leaves both: delivery
 * stays at least once.)
 */
import type { Channel, ConsumeMessage } from "amqplib";
import type { Logger, MessageProxy } from "@dq/core";

/** The part of `consumer_timeout` a delivery may stay unacked before it is re-published. */
export const HOLD_FRACTION = 0.8;

/** What the parking needs from the broker. */
export interface RepublishHost {
  readonly logger: Logger;
  /** The server's `consumer_timeout`, in ms. */
  readonly consumerTimeout: number;
  /** Publishes the bytes again on the delay queue; resolves once RabbitMQ (or the socket) has them. */
  republish(queueName: string, body: Buffer, priority: number | undefined): Promise<void>;
}

/** What the parking needs from the consumer that owns it. */
export interface ParkingOwner {
  /** Whether `channel` is still the consumer's live, open channel. */
  isLive(channel: Channel): boolean;
  /** The delivery was acked or returned here: the consumer forgets it. */
  settled(deliveryTag: number): void;
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The far-future deliveries of one delay-queue channel, each with its re-publish timer. */
export class DelayParking {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  /** How many deliveries were re-published (tests, logs). */
  republished = 0;

  /** How long a delivery may stay unacked, in ms (80% of `consumer_timeout`). */
  readonly holdFor: number;

  constructor(
    private readonly host: RepublishHost,
    private readonly channel: Channel,
    private readonly queueName: string,
    private readonly owner: ParkingOwner,
  ) {
    this.holdFor = Math.floor(host.consumerTimeout * HOLD_FRACTION);
  }

  /** How many deliveries are parked. */
  get size(): number {
    return this.timers.size;
  }

  /**
   * Parks `message` when its eta is further away than `holdFor`.
   * @returns true when parked (the caller must not hand it to the worker)
   */
  park(message: ConsumeMessage, proxy: MessageProxy, now = Date.now()): boolean {
    const eta = proxy.options.eta;
    if (proxy.undecodable || typeof eta !== "number" || eta - now <= this.holdFor) return false;
    const tag = message.fields.deliveryTag;
    const timer = setTimeout(() => void this.republish(message, proxy), this.holdFor);
    timer.unref?.();
    this.timers.set(tag, timer);
    return true;
  }

  private async republish(message: ConsumeMessage, proxy: MessageProxy): Promise<void> {
    const { channel, host, owner } = this;
    const tag = message.fields.deliveryTag;
    if (!this.timers.delete(tag) || !owner.isLive(channel)) return;
    const priority = message.properties.priority as number | undefined;
    try {
      await host.republish(this.queueName, message.content, priority);
    } catch (error) {
      // Not copied: return it to the queue (it comes straight back and is parked again).
      host.logger.warn(
        `Could not re-publish delayed message ${proxy.messageId} to ${this.queueName} before consumer_timeout: ${describe(error)}; returning it to the queue.`,
      );
      if (owner.isLive(channel)) {
        owner.settled(tag);
        try {
          channel.nack(message, false, true);
        } catch {
          // The channel closed: the server returns it anyway.
        }
      }
      return;
    }
    if (!owner.isLive(channel)) {
      // The channel closed meanwhile: the server returns the original too (a duplicate copy,
      // held like any other; at least once).
      host.logger.warn(
        `Delayed message ${proxy.messageId} was re-published to ${this.queueName}, but its channel closed before the ack; RabbitMQ returns the original too.`,
      );
      return;
    }
    owner.settled(tag);
    try {
      channel.ack(message);
      this.republished++;
      host.logger.debug(
        `Re-published delayed message ${proxy.messageId} to ${this.queueName} (eta ${new Date(proxy.options.eta as number).toISOString()}) before consumer_timeout, and acked the original.`,
      );
    } catch (error) {
      host.logger.warn(
        `Could not ack delayed message ${proxy.messageId} after re-publishing it: ${describe(error)}; RabbitMQ returns the original too.`,
      );
    }
  }

  /** Forgets every parked delivery (their channel closed: the server returns them). */
  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
