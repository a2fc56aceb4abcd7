import { DecodeError } from "./errors.js";
import { Message, type MessageData } from "./message.js";
import type { MessageOptions } from "./options.js";

/**
 * A message as a consumer delivered it: the message's fields plus the processing state
 * (`failed`, the stuffed exception). Brokers subclass it to carry their delivery handles.
 */
export class MessageProxy<R = unknown> {
  /** The delivered message. */
  readonly message: Message<R>;
  /** The raw bytes, kept when they did not decode. */
  readonly raw: Buffer | undefined;
  /** Whether the message is to be dead-lettered rather than acked. */
  failed = false;
  /** The error the message failed with, if any. */
  exception: unknown = undefined;
  private controller: AbortController | undefined;
  private interruptReason: Error | undefined;
  private grace: number | undefined;
  /** @internal Set by the worker while the actor runs: fails the message at once. */
  onInterrupt: ((reason: Error, grace: number | undefined) => void) | undefined = undefined;

  constructor(message: Message<R>, raw?: Buffer) {
    this.message = message;
    this.raw = raw;
  }

  /**
   * A proxy for bytes that did not decode: already failed with the `DecodeError`, so the worker
   * dead-letters it. `actorName` is empty.
   */
  static undecodable(queueName: string, raw: Buffer, error: DecodeError): MessageProxy<unknown> {
    const proxy = new MessageProxy(
      new Message({ queueName, actorName: "", args: [], kwargs: {}, options: {} }),
      raw,
    );
    proxy.fail();
    proxy.stuffException(error);
    return proxy;
  }

  /** Whether this delivery did not decode. */
  get undecodable(): boolean {
    return this.raw !== undefined && this.failed && DecodeError.isInstance(this.exception);
  }

  get queueName(): string {
    return this.message.queueName;
  }
  get actorName(): string {
    return this.message.actorName;
  }
  get args(): readonly unknown[] {
    return this.message.args;
  }
  get kwargs(): Record<string, unknown> {
    return this.message.kwargs;
  }
  get options(): MessageOptions {
    return this.message.options;
  }
  get messageId(): string {
    return this.message.messageId;
  }
  get messageTimestamp(): number {
    return this.message.messageTimestamp;
  }

  /**
   * Aborted when the running message is interrupted (`TimeLimitExceeded`, `Shutdown`); the reason
   * is the interrupt. Actors read it with `getAbortSignal()` or `CurrentMessage.getAbortSignal()`.
   */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.interruptReason) this.controller.abort(this.interruptReason);
    }
    return this.controller.signal;
  }

  /** The interrupt this message received, if any. */
  get interruptedBy(): Error | undefined {
    return this.interruptReason;
  }

  /**
   * The grace the interrupt gave, in ms: how long the worker waits for an invocation that ignores
   * the signal before it stops waiting (undefined: until it returns).
   */
  get interruptGrace(): number | undefined {
    return this.grace;
  }

  /**
   * Interrupts the running message: aborts its signal, and the worker fails it with `reason`.
   * With `grace`, the worker waits at most that many ms for an async invocation that ignores the
   * signal, then frees its slot and settles the message (the invocation is left to finish alone).
   */
  interrupt(reason: Error, options: { grace?: number } = {}): void {
    if (this.interruptReason) return;
    this.interruptReason = reason;
    this.grace = options.grace;
    this.controller?.abort(reason);
    this.onInterrupt?.(reason, options.grace);
  }

  /** Marks the message failed: it will be dead-lettered instead of acked. */
  fail(): void {
    this.failed = true;
  }

  /** Remembers the error the message failed with. */
  stuffException(error: unknown): void {
    this.exception = error;
  }

  /** Forgets the stuffed error. */
  clearException(): void {
    this.exception = undefined;
  }

  /** @returns the message's wire shape */
  asDict(): MessageData {
    return this.message.asDict();
  }

  /** @returns a copy of the underlying message */
  copy(changes?: Parameters<Message<R>["copy"]>[0]): Message<R> {
    return this.message.copy(changes);
  }

  toString(): string {
    return this.message.toString();
  }
}

/** What `broker.consume` takes. */
export interface ConsumeOptions {
  /** How many messages may be delivered and not yet acked at once (default 1). */
  prefetch?: number;
  /** After this many ms without a message, the iterator yields `null` (default per broker). */
  timeout?: number;
}

/**
 * Delivers the messages of one queue. An async iterator of `MessageProxy | null`: `null` after
 * `timeout` ms without a message, so a worker can do periodic work. Never ends by itself until
 * closed.
 */
export abstract class Consumer implements AsyncIterableIterator<MessageProxy | null> {
  /**
   * @returns the next delivery, or `null` after the idle timeout
   * @throws ConnectionError when the server is lost (the worker restarts the consumer)
   */
  abstract next(): Promise<IteratorResult<MessageProxy | null, undefined>>;

  /**
   * A delivery that is ready now (already prefetched), taken as `next()` would, or `undefined`
   * when getting one means waiting. The worker takes these before awaiting `next()`, which saves
   * a few promises per message; brokers with a local buffer override it (default: `undefined`).
   */
  nextReady(): MessageProxy | undefined {
    return undefined;
  }

  /** Acknowledges a processed message: it leaves the broker. */
  abstract ack(message: MessageProxy): Promise<void>;

  /** Rejects a message: it moves to the dead-letter queue. */
  abstract nack(message: MessageProxy): Promise<void>;

  /** Returns delivered but unprocessed messages to the queue (default: nothing to do). */
  async requeue(_messages: readonly MessageProxy[]): Promise<void> {}

  /**
   * The worker lets go of these deliveries without settling them, after this consumer failed with
   * a `ConnectionError` (the delayed messages it held). Default: nothing to do, as the server
   * redelivers what a lost connection held (RabbitMQ). A broker whose deliveries outlive the
   * connection (Redis: the ids stay in the ack set) returns them to the queue once reconnected.
   */
  release(_messages: readonly MessageProxy[]): void {}

  /** Stops delivering; undelivered prefetched messages go back to the broker. */
  abstract close(): Promise<void>;

  [Symbol.asyncIterator](): this {
    return this;
  }

  async return(): Promise<IteratorResult<MessageProxy | null, undefined>> {
    await this.close();
    return { done: true, value: undefined };
  }
}
