import { Broker, type BrokerCapabilities, type BrokerOptions, type JoinOptions } from "./broker.js";
import type { TimerClock } from "./clock.js";
import { Consumer, type MessageProxy, type ConsumeOptions } from "./consumer.js";
import { decodeDelivery } from "./worker/consumer-loop.js";
import { QueueJoinTimeout, QueueNotFound } from "./errors.js";
import { Message } from "./message.js";
import { canonicalQueueName, delayQueueName } from "./queue-names.js";

/** One in-memory queue: encoded messages, and how many are enqueued but not yet acked/nacked. */
class StubQueue {
  readonly items: Buffer[] = [];
  unfinished = 0;
  private readonly waiters = new Set<() => void>();
  /** `join` callers, woken when the queue has no unfinished message left. */
  readonly finishWaiters = new Set<() => void>();

  /** Counts `count` messages as acked, nacked or flushed; wakes the `join` callers once none is left. */
  finish(count: number): void {
    this.unfinished -= count;
    if (this.unfinished <= 0 && this.finishWaiters.size)
      for (const wake of [...this.finishWaiters]) wake();
  }

  push(data: Buffer, front = false): void {
    if (front) this.items.unshift(data);
    else this.items.push(data);
    this.wake();
  }

  wake(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves on the next push (or `wake`), or after `ms`. */
  wait(ms: number, clock: TimerClock, extra?: Set<() => void>): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clock.clearTimeout(timer);
        this.waiters.delete(done);
        extra?.delete(done);
        resolve();
      };
      const timer = clock.setTimeout(done, ms);
      this.waiters.add(done);
      extra?.add(done);
    });
  }
}

/** What `new StubBroker(options)` takes. */
export interface StubBrokerOptions extends BrokerOptions {
  /** Whether `join` re-throws the first dead letter's error by default (default true). */
  failFastDefault?: boolean;
}

/**
 * An in-memory broker for tests and local runs: the same contract as the real brokers, delays
 * through `.DQ` queues, dead letters kept in memory, and an exact `join`.
 */
export class StubBroker extends Broker {
  /** Dead-lettered messages by canonical queue name. */
  readonly deadLettersByQueue = new Map<string, MessageProxy[]>();
  readonly failFastDefault: boolean;
  private readonly storage = new Map<string, StubQueue>();

  constructor(options: StubBrokerOptions = {}) {
    super(options);
    this.failFastDefault = options.failFastDefault ?? true;
  }

  get capabilities(): BrokerCapabilities {
    return { delay: true, deadLetters: true, exactJoin: true, requeue: true };
  }

  /** Every dead-lettered message. */
  get deadLetters(): MessageProxy[] {
    return [...this.deadLettersByQueue.values()].flat();
  }

  protected override onDeclareQueue(queueName: string): void {
    this.storage.set(queueName, new StubQueue());
    this.storage.set(delayQueueName(queueName), new StubQueue());
  }

  private queue(queueName: string): StubQueue {
    const queue = this.storage.get(queueName);
    if (!queue)
      throw new QueueNotFound(`queue ${JSON.stringify(queueName)} is not declared on this broker`);
    return queue;
  }

  protected async publish(messages: readonly Message[]): Promise<void> {
    const encoded = messages.map(
      (message) => [this.queue(message.queueName), message.encode()] as const,
    );
    for (const [queue, data] of encoded) {
      queue.unfinished++;
      queue.push(data);
    }
  }

  /**
   * Puts raw bytes on a queue as if another producer had sent them (to test bad input).
   * @throws QueueNotFound when the queue was never declared
   */
  enqueueRaw(queueName: string, data: Buffer | string): void {
    const queue = this.queue(queueName);
    queue.unfinished++;
    queue.push(Buffer.isBuffer(data) ? data : Buffer.from(data, "utf8"));
  }

  /** @internal */
  recordDeadLetter(proxy: MessageProxy): void {
    const name = canonicalQueueName(proxy.queueName);
    const list = this.deadLettersByQueue.get(name) ?? [];
    list.push(proxy);
    this.deadLettersByQueue.set(name, list);
  }

  consume(queueName: string, options: ConsumeOptions = {}): Consumer {
    return new StubConsumer(
      this,
      queueName,
      this.queue(queueName),
      options.prefetch ?? 1,
      options.timeout ?? 100,
    );
  }

  async flush(queueName: string): Promise<void> {
    for (const name of [canonicalQueueName(queueName), delayQueueName(queueName)]) {
      const queue = this.storage.get(name);
      if (!queue) continue;
      const flushed = queue.items.length;
      queue.items.length = 0;
      queue.finish(flushed);
    }
    this.deadLettersByQueue.get(canonicalQueueName(queueName))?.splice(0);
  }

  async flushAll(): Promise<void> {
    for (const name of this.queues) await this.flush(name);
    for (const list of this.deadLettersByQueue.values()) list.splice(0);
  }

  /**
   * Waits until the queue and its delay queue have no unfinished messages (queued or in flight).
   * @throws QueueJoinTimeout after `timeout` ms
   * @throws the first dead letter's error on this queue, when `failFast` (default `failFastDefault`)
   */
  async join(queueName: string, options: JoinOptions & { failFast?: boolean } = {}): Promise<void> {
    const name = canonicalQueueName(queueName);
    const queue = this.queue(name);
    const delayQueue = this.queue(delayQueueName(name));
    const clock = this.clock;
    const deadline = options.timeout === undefined ? Infinity : clock.now() + options.timeout;
    while (queue.unfinished > 0 || delayQueue.unfinished > 0) {
      const rest = deadline - clock.now();
      if (rest <= 0)
        throw new QueueJoinTimeout(
          `timed out after ${options.timeout} ms waiting for queue ${JSON.stringify(name)} to drain`,
        );
      // Woken when either queue has drained, not by polling.
      await new Promise<void>((resolve) => {
        const done = () => {
          clock.clearTimeout(timer);
          queue.finishWaiters.delete(done);
          delayQueue.finishWaiters.delete(done);
          resolve();
        };
        const timer = rest === Infinity ? undefined : clock.setTimeout(done, rest);
        queue.finishWaiters.add(done);
        delayQueue.finishWaiters.add(done);
      });
    }
    if (options.failFast ?? this.failFastDefault) {
      const first = this.deadLettersByQueue.get(name)?.[0];
      if (first) throw first.exception ?? new Error(`message ${first.messageId} was dead-lettered`);
    }
  }
}

/** A consumer of one stub queue, delivering at most `prefetch` unacked messages. */
class StubConsumer extends Consumer {
  private readonly delivered = new Map<MessageProxy, Buffer>();
  private closed = false;
  private readonly localWaiters = new Set<() => void>();

  constructor(
    private readonly broker: StubBroker,
    private readonly queueName: string,
    private readonly queue: StubQueue,
    private readonly prefetch: number,
    private readonly timeout: number,
  ) {
    super();
  }

  async next(): Promise<IteratorResult<MessageProxy | null, undefined>> {
    const clock = this.broker.clock;
    const deadline = clock.now() + this.timeout;
    for (;;) {
      if (this.closed) return { done: true, value: undefined };
      if (this.delivered.size < this.prefetch && this.queue.items.length > 0) {
        const data = this.queue.items.shift()!;
        const proxy = decodeDelivery(this.queueName, data);
        this.delivered.set(proxy, data);
        return { done: false, value: proxy };
      }
      const rest = deadline - clock.now();
      if (rest <= 0) return { done: false, value: null };
      await this.queue.wait(rest, clock, this.localWaiters);
    }
  }

  private settle(proxy: MessageProxy): boolean {
    if (!this.delivered.delete(proxy)) {
      this.broker.logger.warn(
        `Ignoring an ack/nack for message ${proxy.messageId}, which this consumer did not deliver.`,
      );
      return false;
    }
    this.queue.finish(1);
    this.wakeSelf();
    return true;
  }

  private wakeSelf(): void {
    for (const wake of [...this.localWaiters]) wake();
  }

  async ack(proxy: MessageProxy): Promise<void> {
    this.settle(proxy);
  }

  async nack(proxy: MessageProxy): Promise<void> {
    if (this.settle(proxy)) this.broker.recordDeadLetter(proxy);
  }

  override async requeue(proxies: readonly MessageProxy[]): Promise<void> {
    for (const proxy of [...proxies].reverse()) {
      const data = this.delivered.get(proxy);
      if (!data) continue;
      this.delivered.delete(proxy);
      this.queue.push(data, true);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeSelf();
  }
}
