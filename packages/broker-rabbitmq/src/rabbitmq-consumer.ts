import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import {
  ConnectionClosed,
  ConnectionError,
  Consumer,
  type Logger,
  type MessageProxy,
} from "@dq/core";
import { Deadlines, deadLetterQueueName, decodeDelivery, isDelayQueueName } from "@dq/core/adapter";
import type { AmqpLink } from "./amqp-link.js";
import { DelayParking, type RepublishHost } from "./delay-parking.js";

/** What the consumer needs from its broker. */
export interface ConsumerHost extends RepublishHost {
  readonly logger: Logger;
  readonly consumerLink: AmqpLink;
  /** Declares the topology of a canonical queue on the given link (once). */
  ensureQueue(queueName: string, link: AmqpLink): Promise<void>;
  /** Forgets that a queue was declared, so the next use declares it again. */
  forgetQueue(queueName: string): void;
  /** @internal */
  consumerClosed(consumer: RabbitmqConsumer): void;
}

interface Delivery {
  channel: Channel;
  message: ConsumeMessage;
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Delivers one RabbitMQ queue through a channel of its own with `basic.qos(prefetch)` and manual
 * acks. The channel is opened on the first `next()`. When the channel or its connection is lost,
 * `next()` throws `ConnectionClosed` (the worker closes this consumer and opens a new one after
 * its restart delay); the server redelivers whatever was unacked. Acks for deliveries of a channel
 * that is gone are ignored with a warning.
 */
export class RabbitmqConsumer extends Consumer {
  private channel: Channel | undefined;
  private channelOpen = false;
  private starting: Promise<void> | undefined;
  private consumerTag: string | undefined;
  private readonly buffer: MessageProxy[] = [];
  /** Pending waits: a delivery ends most of them first, and the next one reuses the timer. */
  private readonly waiters = new Deadlines<() => void>((resolve) => resolve());
  private failure: Error | undefined;
  private closed = false;
  /** True while `start` waits for the connection (which may take up to `connectionWait`). */
  private connecting = false;
  private resolveClosing: () => void = () => undefined;
  /** Resolves when `close()` is called: a `next()` waiting for the connection returns then. */
  private readonly closing = new Promise<void>((resolve) => (this.resolveClosing = resolve));
  private readonly deliveries = new WeakMap<MessageProxy, Delivery>();
  /** Deliveries of the live channel not yet acked or nacked, by delivery tag (ascending). */
  private readonly unsettled = new Map<number, ConsumeMessage>();
  /** Tags acked since the last flush, and the promise their `ack` calls share. */
  private acksDue = new Set<number>();
  private acksFlushed: { promise: Promise<void>; resolve: () => void } | undefined;
  /** A delay queue's far-future deliveries (see `DelayParking`), for the live channel. */
  private parking: DelayParking | undefined;

  constructor(
    private readonly host: ConsumerHost,
    /** The queue this consumer reads (`q` or `q.DQ`). */
    readonly queueName: string,
    private readonly canonicalName: string,
    private readonly prefetch: number,
    private readonly timeout: number,
  ) {
    super();
  }

  /**
   * @returns the next delivery, or `null` after the idle timeout
   * @throws ConnectionFailed when no server could be reached
   * @throws ConnectionClosed when the channel or connection was lost
   * @throws QueueArgumentsMismatch when the queue exists with other arguments
   */
  async next(): Promise<IteratorResult<MessageProxy | null>> {
    if (this.closed) return { done: true, value: undefined };
    if (!this.channel && !this.failure) {
      this.starting ??= this.start().catch((error: unknown) => {
        this.starting = undefined;
        throw error;
      });
      // Not Promise.race per delivery: this runs once per start.
      await Promise.race([this.starting, this.closing]);
    }
    const deadline = Date.now() + this.timeout;
    for (;;) {
      if (this.closed) return { done: true, value: undefined };
      const proxy = this.buffer.shift();
      if (proxy) return { done: false, value: proxy };
      if (this.failure) throw this.failure;
      const rest = deadline - Date.now();
      if (rest <= 0) return { done: false, value: null };
      await this.wait(rest);
    }
  }

  /** A delivery already received, taken without waiting (see `Consumer.nextReady`). */
  override nextReady(): MessageProxy | undefined {
    return this.closed ? undefined : this.buffer.shift();
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => this.waiters.set(resolve, ms));
  }

  private wake(): void {
    for (const resolve of this.waiters.take()) resolve();
  }

  private async start(): Promise<void> {
    const { host } = this;
    this.connecting = true;
    let model: ChannelModel;
    try {
      model = await host.consumerLink.get();
      await host.ensureQueue(this.canonicalName, host.consumerLink);
    } finally {
      this.connecting = false;
    }
    // Closed while waiting for the server: nothing to consume for.
    if (this.closed) return;
    let channel: Channel;
    try {
      channel = await model.createChannel();
    } catch (error) {
      throw new ConnectionClosed(
        `could not open a channel to consume ${JSON.stringify(this.queueName)}: ${describe(error)}`,
        { cause: error },
      );
    }
    const parking = isDelayQueueName(this.queueName)
      ? new DelayParking(host, channel, this.queueName, {
          isLive: (live) => this.channel === live && this.channelOpen,
          settled: (tag) => this.unsettled.delete(tag),
        })
      : undefined;
    channel.on("error", (error: Error) => {
      if (!this.closed)
        host.logger.warn(
          `RabbitMQ channel of the consumer of ${this.queueName} failed: ${error.message}`,
        );
    });
    channel.on("close", () => {
      this.channelOpen = false;
      if (parking) parking.clear();
      if (this.closed || this.channel !== channel) return;
      // Deliveries of a dead channel cannot be acked: the server redelivers them.
      this.buffer.length = 0;
      this.unsettled.clear();
      this.failure ??= new ConnectionClosed(
        `the RabbitMQ channel of the consumer of ${JSON.stringify(this.queueName)} was closed`,
      );
      this.wake();
    });
    this.parking = parking;
    this.channel = channel;
    this.channelOpen = true;
    this.unsettled.clear();
    this.acksDue.clear();
    try {
      await channel.prefetch(this.prefetch);
      const reply = await channel.consume(
        this.queueName,
        (message) => this.onMessage(channel, message),
        { noAck: false },
      );
      this.consumerTag = reply.consumerTag;
    } catch (error) {
      this.failure = undefined;
      this.channel = undefined;
      await channel.close().catch(() => undefined);
      if (ConnectionError.isInstance(error)) throw error;
      throw new ConnectionClosed(
        `could not start consuming ${JSON.stringify(this.queueName)}: ${describe(error)}`,
        { cause: error },
      );
    }
    if (this.closed) await this.closeChannel();
  }

  private onMessage(channel: Channel, message: ConsumeMessage | null): void {
    if (this.channel !== channel || this.closed) return;
    if (!message) {
      // The server cancelled the consumer: the queue was deleted. Declare it again on restart.
      this.host.forgetQueue(this.canonicalName);
      this.failure ??= new ConnectionClosed(
        `RabbitMQ cancelled the consumer of ${JSON.stringify(this.queueName)} (was the queue deleted?)`,
      );
      this.wake();
      return;
    }
    const proxy = decodeDelivery(this.queueName, message.content);
    this.deliveries.set(proxy, { channel, message });
    this.unsettled.set(message.fields.deliveryTag, message);
    if (this.parking?.park(message, proxy)) return;
    this.buffer.push(proxy);
    this.wake();
  }

  /** The delivery of `proxy` when its channel is still the live one, else undefined (with a warning). */
  private liveDelivery(proxy: MessageProxy, action: string): Delivery | undefined {
    const delivery = this.deliveries.get(proxy);
    if (!delivery || delivery.channel !== this.channel || !this.channelOpen) {
      const tag = delivery ? ` (delivery tag ${delivery.message.fields.deliveryTag})` : "";
      this.host.logger.warn(
        `Ignoring the ${action} of message ${proxy.messageId}${tag} on ${this.queueName}: it was delivered on a channel that is gone; RabbitMQ redelivers it.`,
      );
      return undefined;
    }
    return delivery;
  }

  private settle(
    proxy: MessageProxy,
    action: string,
    settle: (delivery: Delivery) => void,
  ): boolean {
    const delivery = this.liveDelivery(proxy, action);
    if (!delivery) return false;
    try {
      settle(delivery);
      this.deliveries.delete(proxy);
      this.unsettled.delete(delivery.message.fields.deliveryTag);
      return true;
    } catch (error) {
      // The channel closed under us: the server redelivers the message.
      this.host.logger.warn(
        `Could not ${action} message ${proxy.messageId} on ${this.queueName}: ${describe(error)}; RabbitMQ redelivers it.`,
      );
      return false;
    }
  }

  /**
   * basic.ack. The acks of one tick go out together on `process.nextTick`: the longest run of the
   * oldest unsettled deliveries as one `basic.ack` with `multiple`, the others one by one (one
   * frame, and one socket write, instead of one per message). Resolves once they are written.
   */
  ack(proxy: MessageProxy): Promise<void> {
    const delivery = this.liveDelivery(proxy, "ack");
    if (!delivery) return Promise.resolve();
    this.deliveries.delete(proxy);
    this.acksDue.add(delivery.message.fields.deliveryTag);
    if (!this.acksFlushed) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      this.acksFlushed = { promise, resolve };
      process.nextTick(() => this.flushAcks());
    }
    return this.acksFlushed.promise;
  }

  private flushAcks(): void {
    const flushed = this.acksFlushed;
    const due = this.acksDue;
    this.acksFlushed = undefined;
    this.acksDue = new Set();
    const channel = this.channel;
    try {
      // The channel closed since: the server redelivers these (and `start` cleared `unsettled`).
      if (!channel || !this.channelOpen || due.size === 0) return;
      // The oldest unsettled deliveries, while all are due, go as one multiple ack of the last.
      let leading: ConsumeMessage | undefined;
      let inLeadingRun = true;
      for (const [tag, message] of this.unsettled) {
        if (!due.delete(tag)) {
          inLeadingRun = false;
          continue;
        }
        this.unsettled.delete(tag);
        if (inLeadingRun) leading = message;
        else channel.ack(message);
        if (due.size === 0) break;
      }
      if (leading) channel.ack(leading, true);
    } catch (error) {
      // The channel closed under us: the server redelivers the messages.
      this.host.logger.warn(
        `Could not ack ${due.size} message(s) on ${this.queueName}: ${describe(error)}; RabbitMQ redelivers them.`,
      );
    } finally {
      flushed?.resolve();
    }
  }

  /** basic.nack without requeue: RabbitMQ dead-letters the message to `q.XQ`. */
  async nack(proxy: MessageProxy): Promise<void> {
    const done = this.settle(proxy, "nack", ({ channel, message }) =>
      channel.nack(message, false, false),
    );
    if (done && proxy.undecodable) {
      this.host.logger.warn(
        `Dead-lettered an undecodable delivery of ${this.queueName} to ${deadLetterQueueName(this.queueName)}: ${describe(proxy.exception)}`,
      );
    }
  }

  /** basic.nack with requeue: the messages go back to the queue for any consumer. */
  override async requeue(proxies: readonly MessageProxy[]): Promise<void> {
    for (const proxy of proxies) {
      const index = this.buffer.indexOf(proxy);
      if (index >= 0) this.buffer.splice(index, 1);
      this.settle(proxy, "requeue", ({ channel, message }) => channel.nack(message, false, true));
    }
  }

  private async closeChannel(): Promise<void> {
    this.parking?.clear();
    const channel = this.channel;
    this.channel = undefined;
    if (!channel || !this.channelOpen) return;
    this.channelOpen = false;
    try {
      if (this.consumerTag) await channel.cancel(this.consumerTag);
    } catch {
      // The channel is going away anyway.
    }
    // Closing the channel returns every unacked delivery to the queue.
    await channel.close().catch(() => undefined);
  }

  /** Stops consuming and closes the channel; unacked deliveries go back to the queue. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flushAcks();
    this.closed = true;
    this.buffer.length = 0;
    this.wake();
    this.waiters.cancel();
    this.resolveClosing();
    // A start still waiting for the connection is not waited for (it stops once connected);
    // one already opening its channel is, so the channel is closed below.
    const starting = this.starting?.catch(() => undefined);
    if (starting && !this.connecting) await starting;
    await this.closeChannel();
    this.host.consumerClosed(this);
  }
}
