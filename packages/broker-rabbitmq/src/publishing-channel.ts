import type { Channel, ConfirmChannel } from "amqplib";
import { ConnectionClosed, type Logger } from "@dq/core";
import { WriteBarrier, wireOf, type ChannelWire, type WireProperties } from "./amqp-wire.js";

const WRITTEN = Promise.resolve();

/** A message returned by RabbitMQ as unroutable (`mandatory` publishes with confirms). */
export interface ReturnedMessage {
  fields: { routingKey: string };
  content: Buffer;
}

/**
 * The broker's publishing channel with its listeners attached once, however many sends run at
 * once: a publish waits for the channel's `drain` through one shared promise, returned messages
 * go to the watchers registered for the sends in flight, and `written()` tells when the frames
 * reached the socket.
 */
export class PublishingChannel {
  /** Set once amqplib reports the channel closed. */
  closed = false;
  /** Set by `close()`: the channel closes at our request, behind the frames already written. */
  private closing = false;
  private readonly wire: ChannelWire;
  private readonly barrier: WriteBarrier;
  private drain:
    { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } | undefined;
  private readonly returnWatchers = new Set<(message: ReturnedMessage) => void>();

  /**
   * @throws AmqplibIncompatible when the installed amqplib lacks an internal publishing needs
   */
  constructor(
    readonly channel: Channel | ConfirmChannel,
    readonly confirms: boolean,
    logger: Logger,
    onClose: () => void,
  ) {
    this.wire = wireOf(channel);
    this.barrier = new WriteBarrier(this.wire);
    channel.on("error", (error: Error) =>
      logger.warn(`RabbitMQ publishing channel failed: ${error.message}`),
    );
    channel.on("close", () => {
      this.closed = true;
      const error = new ConnectionClosed("the publishing channel closed");
      // Closed at our request, `close()` settles the barrier once it knows how the close went.
      if (!this.closing) this.barrier.fail(error);
      this.drain?.reject(error);
      this.drain = undefined;
      onClose();
    });
    channel.on("drain", () => {
      this.drain?.resolve();
      this.drain = undefined;
    });
    channel.on("return", (message: ReturnedMessage) => {
      for (const watcher of this.returnWatchers) watcher(message);
    });
  }

  /**
   * Publishes one body on the default exchange with Python Dramatiq's properties.
   * @returns false when the channel's buffer is full: wait for `drained()`
   * @throws IllegalOperationError (amqplib) when the channel is closed
   */
  publish(
    queueName: string,
    body: Buffer,
    priority: number | undefined,
    onConfirm?: (error: unknown) => void,
  ): boolean {
    const properties: WireProperties = { deliveryMode: 2 };
    if (priority !== undefined) properties.priority = priority;
    const ok = this.wire.publish(queueName, body, properties, this.confirms, onConfirm);
    this.barrier.flushNow();
    return ok;
  }

  /**
   * Resolves when the channel's write buffer drains (one promise for every waiting publish).
   * @throws ConnectionClosed (rejects) when the channel closes first
   */
  drained(): Promise<void> {
    if (this.closed) return Promise.reject(new ConnectionClosed("the publishing channel closed"));
    if (!this.drain) {
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // Awaited by the callers; this keeps a rejection nobody waits for any more quiet.
      promise.catch(() => undefined);
      this.drain = { promise, resolve, reject };
    }
    return this.drain.promise;
  }

  /**
   * Resolves when everything published on this channel up to the end of this tick is written to
   * the socket.
   * @throws ConnectionClosed (rejects) when the channel or connection closes first
   */
  written(): Promise<void> {
    return this.barrier.flushNow() ? WRITTEN : this.barrier.written();
  }

  /** Calls `watcher` with each returned message until the returned function is called. */
  watchReturns(watcher: (message: ReturnedMessage) => void): () => void {
    this.returnWatchers.add(watcher);
    return () => this.returnWatchers.delete(watcher);
  }

  /** Closes the channel behind the frames already queued on it. */
  async close(): Promise<void> {
    this.closing = true;
    // `close-ok` comes after the server read every frame before `close`: what waits is delivered.
    const delivered = await this.channel.close().then(
      () => true,
      () => false,
    );
    this.barrier.fail(new ConnectionClosed("the publishing channel closed"), delivered);
  }
}
