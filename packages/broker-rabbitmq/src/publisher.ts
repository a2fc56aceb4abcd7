import { ConnectionClosed, ConnectionError, type Logger } from "@dq/core";
import { canonicalQueueName, sleep } from "@dq/core/adapter";
import type { AmqpLink } from "./amqp-link.js";
import {
  AmqplibIncompatible,
  QueueArgumentsMismatch,
  QueueNotFound,
  QueueTypeUnsupported,
} from "./errors.js";
import { PublishingChannel, type ReturnedMessage } from "./publishing-channel.js";

/** One body to publish with its AMQP priority. */
export interface Outgoing {
  queueName: string;
  body: Buffer;
  priority: number | undefined;
}

/** What the publisher needs of its broker. */
export interface PublisherHost {
  readonly logger: Logger;
  readonly confirmDelivery: boolean;
  readonly publisherLink: AmqpLink;
  /** True once the broker is closed. */
  readonly isClosed: boolean;
  /** Whether `q`, `q.DQ` and `q.XQ` are known to be declared. */
  isDeclared(queueName: string): boolean;
  ensureQueue(queueName: string): Promise<void>;
  forgetQueue(queueName: string): void;
}

const MAX_PUBLISH_ATTEMPTS = 6;

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Errors that retrying on a new channel cannot fix. */
function isFinal(error: unknown): boolean {
  if (
    AmqplibIncompatible.isInstance(error) ||
    QueueArgumentsMismatch.isInstance(error) ||
    QueueNotFound.isInstance(error) ||
    QueueTypeUnsupported.isInstance(error)
  )
    return true;
  return ConnectionError.isInstance(error) && !ConnectionClosed.isInstance(error);
}

/**
 * Publishes on one channel of the broker's publisher connection, reopened on demand. A publish
 * resolves once its frames are written to the socket (without confirms) or confirmed by
 * RabbitMQ (with `confirmDelivery`); what was not is published again on a new channel.
 */
export class Publisher {
  private pending: Promise<PublishingChannel> | undefined;
  /** The publishing channel once open (cleared when it closes): `publishNow` needs no await. */
  private current: PublishingChannel | undefined;

  constructor(private readonly host: PublisherHost) {}

  /** @internal the open publishing channel, if any (tests) */
  get openChannel(): PublishingChannel | undefined {
    return this.current;
  }

  private channel(): Promise<PublishingChannel> {
    if (this.pending) return this.pending;
    const { confirmDelivery, logger, publisherLink } = this.host;
    const pending: Promise<PublishingChannel> = (async () => {
      const model = await publisherLink.get();
      const raw = confirmDelivery
        ? await model.createConfirmChannel()
        : await model.createChannel();
      let publishing: PublishingChannel | undefined;
      try {
        publishing = new PublishingChannel(raw, confirmDelivery, logger, () =>
          this.forget(publishing, pending),
        );
      } catch (error) {
        await raw.close().catch(() => undefined);
        throw error;
      }
      return publishing;
    })();
    this.pending = pending;
    pending.then(
      (publishing) => {
        if (this.pending === pending && !publishing.closed) this.current = publishing;
      },
      () => this.forget(undefined, pending),
    );
    return pending;
  }

  private forget(
    publishing: PublishingChannel | undefined,
    pending: Promise<PublishingChannel> | undefined,
  ): void {
    if (publishing && this.current === publishing) this.current = undefined;
    if (pending && this.pending === pending) this.pending = undefined;
  }

  /** Publishes bodies; see the class. */
  publish(outgoing: Outgoing[]): Promise<void> {
    return (outgoing.length === 1 && this.publishNow(outgoing[0]!)) || this.send(outgoing);
  }

  /**
   * Publishes one message at once when nothing needs waiting for before the write: no confirms,
   * its queue declared and the channel open. The path of every one-at-a-time send, without the
   * awaits of `send` (declaration, channel); the sends of one tick share one wait for the socket.
   * @returns undefined when the message must take the long way (then nothing was sent)
   */
  private publishNow(item: Outgoing): Promise<void> | undefined {
    const channel = this.current;
    if (
      !channel ||
      channel.closed ||
      this.host.confirmDelivery ||
      this.host.isClosed ||
      !this.host.isDeclared(item.queueName)
    )
      return undefined;
    try {
      // Without confirms a full buffer only slows the caller: `written()` waits for the muxer.
      channel.publish(item.queueName, item.body, item.priority);
    } catch {
      // The channel closed under us before taking the message: `send` opens another.
      return undefined;
    }
    return channel.written().catch((error: unknown) => {
      this.host.logger.warn(
        `A message for ${JSON.stringify(item.queueName)} was not written before its channel closed (${describe(error)}); publishing it again.`,
      );
      this.forget(channel, undefined);
      return this.send([item]);
    });
  }

  /**
   * Publishes bodies, declaring their queues first. Retries on a lost channel or connection,
   * republishing only what was not yet written (or, with `confirmDelivery`, not yet confirmed).
   */
  async send(outgoing: Outgoing[]): Promise<void> {
    if (this.host.isClosed) throw new ConnectionClosed("the RabbitMQ broker is closed");
    let remaining = outgoing;
    let lastError: unknown;
    for (let attempt = 0; attempt < MAX_PUBLISH_ATTEMPTS && remaining.length > 0; attempt++) {
      if (attempt > 0) await sleep(Math.min(100 * 2 ** attempt, 2000));
      try {
        for (const queueName of new Set(
          remaining.map((item) => canonicalQueueName(item.queueName)),
        ))
          await this.host.ensureQueue(queueName);
        remaining = await this.publishOn(await this.channel(), remaining);
      } catch (error) {
        if (isFinal(error)) throw error;
        lastError = error;
        this.host.logger.warn(
          `Publishing to RabbitMQ failed (attempt ${attempt + 1} of ${MAX_PUBLISH_ATTEMPTS}): ${describe(error)}`,
        );
        // A closed channel has forgotten itself (`onClose`); one that failed otherwise is kept.
      }
    }
    if (remaining.length > 0) {
      throw new ConnectionClosed(
        `could not publish ${remaining.length} message(s) to RabbitMQ after ${MAX_PUBLISH_ATTEMPTS} attempts: ${describe(lastError)}`,
        {
          cause: lastError,
        },
      );
    }
  }

  /** @returns the items that still need publishing (unwritten, unconfirmed, or returned as unroutable) */
  private async publishOn(channel: PublishingChannel, items: Outgoing[]): Promise<Outgoing[]> {
    if (channel.confirms) return this.publishConfirmed(channel, items);
    let sent = 0;
    let failure: unknown;
    try {
      for (const item of items) {
        const ok = channel.publish(item.queueName, item.body, item.priority);
        sent++;
        if (!ok) await channel.drained();
      }
    } catch (error) {
      failure = error;
    }
    // What was handed to the channel counts as sent once it is in the socket; when that fails,
    // nothing is known to be sent.
    if (sent > 0)
      await channel.written().catch((error: unknown) => Promise.reject(this.wrap(error)));
    if (failure === undefined) return [];
    if (sent === 0) throw this.wrap(failure);
    this.host.logger.warn(
      `Publishing to RabbitMQ failed after ${sent} message(s): ${describe(failure)}`,
    );
    return items.slice(sent);
  }

  private async publishConfirmed(
    channel: PublishingChannel,
    items: Outgoing[],
  ): Promise<Outgoing[]> {
    const returned: Outgoing[] = [];
    const unwatch = channel.watchReturns((message: ReturnedMessage) => {
      const item = items.find(
        (candidate) =>
          candidate.queueName === message.fields.routingKey &&
          candidate.body.equals(message.content),
      );
      if (item && !returned.includes(item)) returned.push(item);
    });
    try {
      const confirms: Promise<void>[] = [];
      for (const item of items) {
        let settle!: (error: unknown) => void;
        const confirm = new Promise<void>((resolve, reject) => {
          settle = (error) => {
            if (error)
              reject(
                new ConnectionClosed(
                  `RabbitMQ did not confirm a message for ${JSON.stringify(item.queueName)}: ${describe(error)}`,
                  { cause: error },
                ),
              );
            else resolve();
          };
        });
        // Observed by allSettled below; this keeps an early throw from leaving it unhandled.
        confirm.catch(() => undefined);
        confirms.push(confirm);
        const ok = channel.publish(item.queueName, item.body, item.priority, settle);
        if (!ok) await channel.drained();
      }
      const results = await Promise.allSettled(confirms);
      const failed = items.filter((_, index) => results[index]!.status === "rejected");
      if (failed.length > 0 && failed.length === items.length)
        throw (results[0] as PromiseRejectedResult).reason;
      for (const item of returned) {
        this.host.logger.warn(
          `RabbitMQ returned a message for ${JSON.stringify(item.queueName)} as unroutable; declaring the queue again.`,
        );
        this.host.forgetQueue(item.queueName);
      }
      return [...failed, ...returned.filter((item) => !failed.includes(item))];
    } catch (error) {
      throw this.wrap(error);
    } finally {
      unwatch();
    }
  }

  private wrap(error: unknown): Error {
    if (
      ConnectionError.isInstance(error) ||
      QueueArgumentsMismatch.isInstance(error) ||
      AmqplibIncompatible.isInstance(error)
    )
      return error;
    return new ConnectionClosed(`publishing to RabbitMQ failed: ${describe(error)}`, {
      cause: error,
    });
  }

  /** Closes the publishing channel behind the frames already queued on it. */
  async close(): Promise<void> {
    // amqplib writes connection.close ahead of channel frames still queued in its muxer, so
    // closing the connection at once drops publishes that were handed over but not yet written.
    // Closing the publishing channel first goes through the same queue, after them.
    const publishing = await this.pending?.catch(() => undefined);
    await publishing?.close();
  }
}
