import type { Logger } from "@dq/core";
import type { Redis } from "ioredis";

/** Takes a handed-off message; @returns false when the consumer cannot (it is closed). */
export type HandOffListener = (id: string, data: Buffer) => boolean;

/**
 * The Pub/Sub side of a RedisBroker, on one subscriber connection:
 * - wake-ups: dq's dispatch script publishes `<ns>:__wakeup__.<queue>` when it enqueues or
 *   requeues; the hub calls that queue's listeners (idle consumers fetch at once);
 * - hand-offs: an enqueue onto an empty queue may publish the message itself on
 *   `<ns>:__handoff__.<broker id>` (payload `queue\nid\ndata`), its id already in this broker's
 *   ack set; the hub gives it to a consumer of that queue, or requeues it when none takes it.
 * Channels are not keys: nothing is stored, and Python workers (which neither publish nor
 * subscribe) never see them. Python producers do not publish, so consumers keep Dramatiq's
 * backoff polling as well.
 */
export class WakeupHub {
  private subscriber: Redis | undefined;
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly handOffListeners = new Map<string, Set<HandOffListener>>();
  private handOffSubscription: Promise<unknown> | undefined;
  private handOffReady = false;
  private closed = false;

  constructor(
    private readonly namespace: string,
    private readonly brokerId: string,
    private readonly createSubscriber: () => Redis,
    private readonly logger: Logger,
    private readonly hooks: {
      /** A handed-off message no consumer took: put it back on its queue. */
      requeue: (queueName: string, id: string) => Promise<void>;
      /** The subscriber connection came back: hand-offs in flight may have been lost. */
      reconnected: () => void;
    },
    /**
     * Whether enqueues may hand messages to this broker. Off on a Redis Cluster: there PUBLISH
     * counts only the subscribers of the node that ran the script, while the cluster bus delivers
     * to all, so a hand-off counted as missed would arrive anyway and the message run twice.
     */
    private readonly handOffs = true,
  ) {}

  /** The channel dq producers publish on after enqueueing to `queueName`. */
  channel(queueName: string): string {
    return `${this.namespace}:__wakeup__.${queueName}`;
  }

  private get handOffChannel(): string {
    return `${this.namespace}:__handoff__.${this.brokerId}`;
  }

  /** Whether hand-offs to this broker would arrive (its channel is subscribed). */
  get acceptsHandOffs(): boolean {
    return (
      this.handOffs && this.handOffReady && !this.closed && this.subscriber?.status === "ready"
    );
  }

  /**
   * Calls `listener` whenever a dq producer enqueues to `queueName`, and `onHandOff` with each
   * message handed to this broker for `queueName`.
   * @returns a function that removes the listeners
   */
  listen(queueName: string, listener: () => void, onHandOff?: HandOffListener): () => void {
    if (this.closed) return () => undefined;
    const channel = this.channel(queueName);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      this.connection()
        .subscribe(channel)
        .catch((error: unknown) =>
          this.logger.debug(
            `Could not subscribe to ${channel}; consumers fall back to polling.`,
            error,
          ),
        );
    }
    set.add(listener);
    if (onHandOff) {
      let handOffs = this.handOffListeners.get(queueName);
      if (!handOffs) this.handOffListeners.set(queueName, (handOffs = new Set()));
      handOffs.add(onHandOff);
      this.handOffSubscription ??= this.connection()
        .subscribe(this.handOffChannel)
        .then(
          () => (this.handOffReady = true),
          (error: unknown) =>
            this.logger.debug(
              `Could not subscribe to ${this.handOffChannel}; consumers fetch instead.`,
              error,
            ),
        );
    }
    return () => {
      if (onHandOff) this.handOffListeners.get(queueName)?.delete(onHandOff);
      const current = this.listeners.get(channel);
      if (!current?.delete(listener) || current.size > 0) return;
      this.listeners.delete(channel);
      if (!this.closed) this.subscriber?.unsubscribe(channel).catch(() => undefined);
    };
  }

  /**
   * Resolves once every message published to this broker before the call has been received
   * (a PING on the subscriber connection, answered in order after them).
   * @returns false when the PING failed (timed out): a hand-off may still be on its way
   */
  async sync(): Promise<boolean> {
    if (this.subscriber?.status !== "ready") return true;
    return this.subscriber.ping().then(
      () => true,
      () => false,
    );
  }

  private handOff(payload: Buffer): void {
    const first = payload.indexOf(10);
    const second = first < 0 ? -1 : payload.indexOf(10, first + 1);
    if (second < 0) {
      this.logger.warn(`Ignoring a malformed hand-off on ${this.handOffChannel}.`);
      return;
    }
    const queueName = payload.toString("utf8", 0, first);
    const id = payload.toString("utf8", first + 1, second);
    const data = payload.subarray(second + 1);
    for (const listener of this.handOffListeners.get(queueName) ?? [])
      if (listener(id, data)) return;
    // The consumer closed after it registered: the message goes back to its queue.
    this.hooks
      .requeue(queueName, id)
      .catch((error: unknown) =>
        this.logger.warn(
          `Could not requeue handed-off message ${id} of ${queueName}; it comes back once this broker's heartbeat expires.`,
          error,
        ),
      );
  }

  private connection(): Redis {
    if (!this.subscriber) {
      const subscriber = this.createSubscriber();
      let ready = false;
      subscriber.on("messageBuffer", (channelBuffer: Buffer, payload: Buffer) => {
        const channel = channelBuffer.toString("utf8");
        if (channel === this.handOffChannel) return this.handOff(payload);
        for (const listener of [...(this.listeners.get(channel) ?? [])]) listener();
      });
      subscriber.on("ready", () => {
        if (ready) this.hooks.reconnected();
        ready = true;
      });
      // Errors surface through the command connection; here they only mean wake-ups pause
      // while ioredis reconnects and resubscribes.
      subscriber.on("error", (error: unknown) =>
        this.logger.debug("Wake-up subscriber connection error.", error),
      );
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
    if (subscriber.status === "ready") await subscriber.quit().catch(() => subscriber.disconnect());
    else subscriber.disconnect();
  }
}
