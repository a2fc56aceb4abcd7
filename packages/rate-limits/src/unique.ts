import {
  InvalidOptionError,
  MiddlewareError,
  SkipEnqueue,
  SkipMessage,
  Middleware,
  type Broker,
  type Message,
  type MessageProxy,
} from "@dq/core";
import { isDelayQueueName, type OptionValidator, type RateLimiterBackend } from "@dq/core/adapter";
import {
  defaultUniqueKey,
  uniqueLockValidator,
  uniqueValidator,
  type UniqueOptions,
} from "./unique-options.js";

/** Options of the `Unique` middleware. */
export interface UniqueMiddlewareOptions {
  /** Prefix of every lock key in the backend (default `"dq-unique:"`). */
  prefix?: string;
  /**
   * What `send` does with a duplicate in `drop` mode: `"resolve"` (default) resolves with the
   * message, which was not enqueued (`isDuplicate(message)` is true); `"throw"` rejects with
   * `DuplicateMessage`.
   */
  onDuplicate?: "resolve" | "throw";
}

/** Why a `drop`-mode send was not enqueued: the lock and the message holding it. */
export interface Duplicate {
  /** The lock key in the backend. */
  readonly lockKey: string;
  /** The id of the message holding the lock when this one was sent (undefined: it just expired). */
  readonly owner: string | undefined;
}

/** A `drop`-mode send rejected as a duplicate (only with `onDuplicate: "throw"`). */
export class DuplicateMessage extends MiddlewareError {
  /** The lock key in the backend. */
  readonly lockKey: string;
  /** The id of the message holding the lock. */
  readonly owner: string | undefined;
  constructor(message: Message, duplicate: Duplicate) {
    super(
      `message ${message.messageId} (${message.actorName}) was not enqueued: unique lock ` +
        `${duplicate.lockKey} is held by message ${duplicate.owner ?? "(expired meanwhile)"}`,
    );
    this.lockKey = duplicate.lockKey;
    this.owner = duplicate.owner;
  }
}

const duplicates = new WeakMap<Message, Duplicate>();

/**
 * @returns why `message` (as `send` resolved it) was not enqueued by `Unique` in `drop` mode, or
 * undefined when it was enqueued
 */
export function duplicateOf(message: Message): Duplicate | undefined {
  return duplicates.get(message);
}

/** @returns whether `send` left `message` out as a duplicate (`Unique`, mode `drop`) */
export function isDuplicate(message: Message): boolean {
  return duplicates.has(message);
}

/**
 * Unique messages: at most one pending (or, with `until: "finished"`, pending or running) message
 * per key, across every process sharing the backend (Redis, Memcached, or the in-memory stub).
 * Reads the message and actor option `unique: { key?, ttl, until, mode }`.
 *
 * The lock is a backend key holding the id of the message that owns it. A send takes it (`drop`:
 * only when free; `replace`/`debounce`: always) and records its name in the message option
 * `uniqueLock`; a re-enqueue of that message (a retry, a delayed message falling due) keeps it and
 * is never dropped. A worker skips a `replace`/`debounce` message that no longer owns its lock;
 * the lock is released (only by its owner) when processing starts (`until: "started"`) or when
 * the message is acked without error or dead-lettered (`until: "finished"`). `ttl` bounds it all.
 */
export class Unique extends Middleware {
  readonly backend: RateLimiterBackend;
  readonly prefix: string;
  readonly onDuplicate: "resolve" | "throw";
  private readonly validators: Readonly<Record<string, OptionValidator>> = {
    unique: uniqueValidator(),
    uniqueLock: uniqueLockValidator,
  };

  /** @throws InvalidOptionError for a `prefix` or `onDuplicate` that is not one of the allowed values */
  constructor(backend: RateLimiterBackend, options: UniqueMiddlewareOptions = {}) {
    super();
    const { prefix = "dq-unique:", onDuplicate = "resolve", ...rest } = options;
    const unknown = Object.keys(rest);
    if (unknown.length > 0)
      throw new InvalidOptionError(
        `Unique: unknown option ${JSON.stringify(unknown[0])}; known: prefix, onDuplicate`,
      );
    if (typeof prefix !== "string")
      throw new InvalidOptionError(`Unique: prefix must be a string, got ${String(prefix)}`);
    if (onDuplicate !== "resolve" && onDuplicate !== "throw")
      throw new InvalidOptionError(
        `Unique: onDuplicate must be "resolve" or "throw", got ${JSON.stringify(onDuplicate)}`,
      );
    this.backend = backend;
    this.prefix = prefix;
    this.onDuplicate = onDuplicate;
  }

  override get actorOptions(): ReadonlySet<string> {
    return new Set(["unique"]);
  }

  override get optionValidators(): Readonly<Record<string, OptionValidator>> {
    return this.validators;
  }

  /** The `unique` option of a message, else of its actor (`null` on the message turns it off). */
  private configOf(broker: Broker, message: Message): UniqueOptions | undefined {
    const own = message.options.unique as UniqueOptions | null | undefined;
    if (own !== undefined) return own ?? undefined;
    const ofActor = broker.actors.get(message.actorName)?.options.unique;
    return (ofActor as UniqueOptions | null | undefined) ?? undefined;
  }

  /** @returns the lock key of a message this middleware (or a peer) already admitted */
  private lockOf(message: Message): string | undefined {
    const lock = message.options.uniqueLock;
    return typeof lock === "string" && lock.length > 0 ? lock : undefined;
  }

  override async beforeEnqueue(
    broker: Broker,
    message: Message,
    delay: number | undefined,
  ): Promise<void> {
    const config = this.configOf(broker, message);
    if (!config) return;
    const id = message.messageId;
    // The TTL counts from when the message is due, so a delay (a debounce window) never outlives it.
    const ttl = config.ttl + (delay ?? 0);
    const admitted = this.lockOf(message);
    if (admitted !== undefined) {
      // A retry or a delayed message falling due: keep the lock (refreshing it), take it if free.
      if (!(await this.backend.compareAndSet(admitted, id, id, ttl)))
        await this.backend.addValue(admitted, id, ttl);
      return;
    }
    const lockKey =
      this.prefix +
      (config.key ??
        defaultUniqueKey(message.actorName, message.queueName, message.args, message.kwargs));
    message.options.uniqueLock = lockKey;
    if (config.mode !== "drop") {
      await this.backend.setValue(lockKey, id, ttl);
      return;
    }
    if (await this.backend.addValue(lockKey, id, ttl)) return;
    const duplicate: Duplicate = { lockKey, owner: await this.backend.getValue(lockKey) };
    duplicates.set(message, duplicate);
    broker.logger.debug(
      `Message ${id} (${message.actorName}) not enqueued: unique lock ${lockKey} is held by ${duplicate.owner ?? "nobody now"}.`,
    );
    if (this.onDuplicate === "throw") throw new DuplicateMessage(message, duplicate);
    throw new SkipEnqueue(`message ${id} is a duplicate`);
  }

  override async beforeProcessMessage(broker: Broker, proxy: MessageProxy): Promise<void> {
    const lock = this.lockOf(proxy.message);
    const config = lock === undefined ? undefined : this.configOf(broker, proxy.message);
    if (lock === undefined || !config) return;
    // A drop-mode message was admitted when sent: it runs, and holds its lock until it finishes.
    if (config.mode === "drop" && config.until === "finished") return;
    const id = proxy.messageId;
    const owns =
      config.until === "started"
        ? await this.backend.compareAndDelete(lock, id)
        : (await this.backend.getValue(lock)) === id;
    if (owns || config.mode === "drop") return;
    broker.logger.debug(`Skipping message ${id}: it no longer owns unique lock ${lock}.`);
    throw new SkipMessage(`message ${id} was replaced: it no longer owns unique lock ${lock}`);
  }

  /** Acked without error (success, or skipped): the message is finished; release its lock. */
  override async afterAck(_broker: Broker, proxy: MessageProxy): Promise<void> {
    // An ack after an error means a retry was enqueued: that copy keeps the lock.
    if (proxy.exception !== undefined) return;
    await this.release(proxy);
  }

  /** Dead-lettered: failed for good; release its lock. */
  override async afterNack(_broker: Broker, proxy: MessageProxy): Promise<void> {
    await this.release(proxy);
  }

  private async release(proxy: MessageProxy): Promise<void> {
    // The ack of a delayed message moved to its queue: the message itself is still to run.
    if (isDelayQueueName(proxy.queueName)) return;
    const lock = this.lockOf(proxy.message);
    if (lock !== undefined) await this.backend.compareAndDelete(lock, proxy.messageId);
  }
}
