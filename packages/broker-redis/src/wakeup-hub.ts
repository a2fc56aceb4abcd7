import type { Logger } from "@dq/core";
import type { Redis } from "ioredis";

/**
 * Wake-ups for idle consumers. dq producers `PUBLISH <ns>:__wakeup__.<queue>` in the same
 * pipeline as their enqueue; the hub holds one subscriber connection per broker and calls the
 * listeners of that queue. Pub/Sub channels are not keys: nothing is stored, and Python workers
 * (which neither publish nor subscribe) never see them. Python producers do not publish, so
 * consumers keep Dramatiq's backoff polling as well.
 */
export class WakeupHub {
  private subscriber: Redis | undefined;
  private readonly listeners = new Map<string, Set<() => void>>();
  private closed = false;

  constructor(
    private readonly namespace: string,
    private readonly createSubscriber: () => Redis,
    private readonly logger: Logger,
  ) {}

  /** The channel dq producers publish on after enqueueing to `queueName`. */
  channel(queueName: string): string {
    return `${this.namespace}:__wakeup__.${queueName}`;
  }

  /**
   * Calls `listener` whenever a dq producer enqueues to `queueName`.
   * @returns a function that removes the listener
   */
  listen(queueName: string, listener: () => void): () => void {
    if (this.closed) return () => undefined;
    const channel = this.channel(queueName);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      this.connection()
        .subscribe(channel)
        .catch((error: unknown) => this.logger.debug(`Could not subscribe to ${channel}; consumers fall back to polling.`, error));
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(channel);
      if (!current?.delete(listener) || current.size > 0) return;
      this.listeners.delete(channel);
      if (!this.closed) this.subscriber?.unsubscribe(channel).catch(() => undefined);
    };
  }

  private connection(): Redis {
    if (!this.subscriber) {
      const subscriber = this.createSubscriber();
      subscriber.on("message", (channel: string) => {
        for (const listener of [...(this.listeners.get(channel) ?? [])]) listener();
      });
      // Errors surface through the command connection; here they only mean wake-ups pause
      // while ioredis reconnects and resubscribes.
      subscriber.on("error", (error: unknown) => this.logger.debug("Wake-up subscriber connection error.", error));
      this.subscriber = subscriber;
    }
    return this.subscriber;
  }

  /** Closes the subscriber connection. */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (!subscriber) return;
    await subscriber.quit().catch(() => subscriber.disconnect());
  }
}
