/**
 * Deliveries in: a queue's fetch loop, the decode step consumers run on the bytes, the routing of
 * each delivery (hold it until its eta, dead-letter it when undecodable or invalid, or hand it to
 * the `MessageRunner` to run), and the in-memory delay queue.
 */
import type { Actor } from "../actor.js";
import type { Broker } from "../broker.js";
import { sleep } from "../clock.js";
import { MessageProxy, type Consumer } from "../consumer.js";
import { ActorNotFound, ConnectionError, DecodeError, InvalidOptionError } from "../errors.js";
import { Heap } from "../heap.js";
import type { Logger } from "../logger.js";
import { Message } from "../message.js";
import { canonicalQueueName } from "../queue-names.js";
import type { MessageRunner } from "./message-runner.js";

/**
 * The decode step every consumer runs on a delivery's bytes: a proxy of the decoded message, or,
 * when the bytes do not decode, an undecodable proxy (already failed with a `DecodeError` that
 * keeps the bytes) for the worker to dead-letter.
 */
export function decodeDelivery(queueName: string, data: Buffer): MessageProxy {
  try {
    return new MessageProxy(Message.decode(data));
  } catch (error) {
    const decodeError = DecodeError.isInstance(error)
      ? error
      : new DecodeError(error instanceof Error ? error.message : String(error), data, {
          cause: error,
        });
    return MessageProxy.undecodable(queueName, data, decodeError);
  }
}

/** What {@link routeDelivery} needs from the worker. */
export interface RouterHost {
  readonly broker: Broker;
  readonly logger: Logger;
  /** Queues valid deliveries to run, and dead-letters (post-processes) those that will not. */
  readonly runner: MessageRunner;
}

/** What a `ConsumerLoop` needs from the worker that runs it. */
export interface LoopHost extends RouterHost {
  /** Idle wake-up of the consumer, in ms. */
  readonly workerTimeout: number;
  /** Wait before restarting a consumer that failed, in ms. */
  readonly restartDelay: number;
  /** Aborted when the worker stops. */
  readonly stopSignal: AbortSignal;
  /** Whether the worker is paused. */
  readonly paused: boolean;
  /** Resolves once the worker resumes, or when `stopped` does. */
  whenResumed(stopped: Promise<void>): Promise<void>;
  /** Called when the loop no longer holds any delayed message. */
  delayedDrained(): void;
}

/**
 * Routes one delivery: hold it if delayed, dead-letter it if unusable, else queue it to run.
 * @returns a Promise only when there is something to wait for (most deliveries are queued at once)
 */
export function routeDelivery(
  host: RouterHost,
  loop: ConsumerLoop,
  consumer: Consumer,
  proxy: MessageProxy,
): void | Promise<void> {
  const { broker, logger, runner } = host;
  const options = proxy.options;
  if ("eta" in options) {
    if (options.eta === null || options.eta === undefined) {
      delete options.eta;
    } else if (typeof options.eta !== "number" || !Number.isFinite(options.eta)) {
      logger.warn(
        `Message ${proxy.messageId} has an invalid eta ${JSON.stringify(options.eta)}; running it now.`,
      );
      options.eta = broker.clock.now();
    }
  }
  if (proxy.undecodable) {
    logger.error(
      `Dead-lettering a message on ${loop.queueName} that does not decode: ${(proxy.exception as Error).message}`,
      proxy.exception,
    );
    return runner.postProcess(proxy, consumer);
  }
  if (options.eta !== undefined) {
    const eta = options.eta;
    const before = broker.emitBefore("delayMessage", proxy);
    if (!before) return loop.holdDelayed(proxy, consumer, eta);
    return before.then(() => loop.holdDelayed(proxy, consumer, eta));
  }
  let actor: Actor;
  try {
    actor = broker.getActor(proxy.actorName);
    actor.validateArgs(proxy.args);
    // Option values from another producer are checked as the actor's own were at declaration.
    broker.validateOptions(proxy.options, `message ${proxy.messageId} (${proxy.actorName})`);
  } catch (error) {
    const what = ActorNotFound.isInstance(error)
      ? "for an unknown actor"
      : InvalidOptionError.isInstance(error)
        ? "with an invalid option"
        : "with invalid arguments";
    logger.error(`Dead-lettering message ${proxy.messageId} ${what}: ${(error as Error).message}`);
    proxy.fail();
    proxy.stuffException(error);
    return runner.postProcess(proxy, consumer);
  }
  runner.enqueue(actor, consumer, proxy);
}

interface DelayedItem {
  eta: number;
  sequence: number;
  proxy: MessageProxy;
  consumer: Consumer;
}

/** A delivery that arrived after the loop was told to stop. */
export interface Straggler {
  proxy: MessageProxy;
  consumer: Consumer;
}

/** One queue's consumer, its fetch loop and its in-memory delay queue. */
export class ConsumerLoop {
  consumer: Consumer | undefined;
  private readonly delayed = new Heap<DelayedItem>(
    (a, b) => a.eta < b.eta || (a.eta === b.eta && a.sequence < b.sequence),
  );
  private running = true;
  /** Settles once the loop has ended (after `stop()`). */
  done: Promise<void> = Promise.resolve();
  private delayTimer: unknown;
  private delayTimerAt = Infinity;
  private stopWaiter: (() => void) | undefined;
  private cancelNext: (() => void) | undefined;
  /** The fetch that was pending when the loop stopped; settles once its consumer is closed. */
  pendingNext: Promise<unknown> | undefined;
  /** Deliveries that arrived after the loop was told to stop; returned on close. */
  readonly stragglers: Straggler[] = [];

  constructor(
    private readonly host: LoopHost,
    readonly queueName: string,
    readonly prefetch: number,
  ) {}

  /** How many delayed messages this loop holds. */
  get heldCount(): number {
    return this.delayed.size;
  }

  start(): void {
    this.done = this.run();
  }

  stop(): void {
    this.running = false;
    this.stopWaiter?.();
    this.cancelNext?.();
    this.host.broker.clock.clearTimeout(this.delayTimer);
  }

  /** Empties the delay queue, returning what it held (for the worker to give back). */
  drainDelayed(): Straggler[] {
    const items = this.delayed.drain();
    if (items.length) this.host.delayedDrained();
    return items;
  }

  private async run(): Promise<void> {
    const { broker } = this.host;
    const stopped = new Promise<void>((resolve) => (this.stopWaiter = resolve));
    while (this.running) {
      let consumer: Consumer | undefined;
      try {
        consumer = broker.consume(this.queueName, {
          prefetch: this.prefetch,
          timeout: this.host.workerTimeout,
        });
        this.consumer = consumer;
        await broker.emitAfter("consumerThreadBoot", this.queueName);
        while (this.running) {
          if (this.host.paused) await this.host.whenResumed(stopped);
          if (!this.running) break;
          // Prefetched messages are taken without a promise each; the buffer bounds this loop.
          let proxy: MessageProxy | null | undefined = consumer.nextReady();
          if (proxy === undefined) {
            const result = await this.waitNext(consumer);
            if (result === undefined || result.done) break;
            proxy = result.value;
          }
          if (proxy) {
            const handled = routeDelivery(this.host, this, consumer, proxy);
            if (handled) await handled;
          }
          if (this.delayed.size > 0) await this.handleDelayed();
        }
      } catch (error) {
        if (!this.running) break;
        const restartDelay = this.host.restartDelay;
        if (ConnectionError.isInstance(error)) {
          this.host.logger.error(
            `Consumer of ${this.queueName} lost its connection; restarting in ${restartDelay} ms.`,
            error,
          );
          // The broker redelivers what this consumer held (Redis: once reconnected, see release).
          for (const item of this.drainDelayed()) item.consumer.release([item.proxy]);
        } else {
          this.host.logger.error(
            `Consumer of ${this.queueName} failed unexpectedly; restarting in ${restartDelay} ms.`,
            error,
          );
          await this.returnDelayed(consumer);
        }
        await consumer?.close().catch(() => undefined);
        if (this.consumer === consumer) this.consumer = undefined;
        await sleep(restartDelay, this.host.stopSignal, broker.clock);
      }
    }
    await broker.emitBefore("consumerThreadShutdown", this.queueName);
  }

  /**
   * Awaits the consumer's next delivery, or `undefined` when the loop is stopped first (the
   * delivery, if one comes late, is kept in `stragglers` for the worker to return).
   */
  private async waitNext(
    consumer: Consumer,
  ): Promise<IteratorResult<MessageProxy | null> | undefined> {
    const next = consumer.next();
    // Not Promise.race with `stopped`: that would add a reaction to the never-settling
    // `stopped` promise for every delivery (a leak and a per-message allocation).
    const result = await new Promise<IteratorResult<MessageProxy | null> | undefined>(
      (resolve, reject) => {
        this.cancelNext = () => resolve(undefined);
        next.then(resolve, reject);
      },
    );
    this.cancelNext = undefined;
    if (result === undefined) {
      this.pendingNext = next.then(
        (late) => {
          if (!late.done && late.value) this.stragglers.push({ proxy: late.value, consumer });
        },
        () => undefined,
      );
    }
    return result;
  }

  /** Holds a delayed message until its eta. */
  holdDelayed(proxy: MessageProxy, consumer: Consumer, eta: number): void {
    this.delayed.push({ eta, sequence: this.host.runner.nextSequence(), proxy, consumer });
    this.scheduleDelayed();
  }

  private scheduleDelayed(): void {
    const next = this.delayed.peek();
    if (!next || !this.running) return;
    if (next.eta >= this.delayTimerAt && this.delayTimer) return;
    const clock = this.host.broker.clock;
    clock.clearTimeout(this.delayTimer);
    this.delayTimerAt = next.eta;
    this.delayTimer = clock.setTimeout(
      () => {
        this.delayTimer = undefined;
        this.delayTimerAt = Infinity;
        void this.handleDelayed();
      },
      Math.max(0, next.eta - clock.now()),
    );
  }

  /** Re-enqueues the delayed messages that are due on their canonical queue, then acks them. */
  private async handleDelayed(): Promise<void> {
    const now = this.host.broker.clock.now();
    while (this.running && (this.delayed.peek()?.eta ?? Infinity) <= now) {
      const item = this.delayed.pop()!;
      try {
        const options = { ...item.proxy.options };
        delete options.eta;
        const due = new Message({
          ...item.proxy.message,
          queueName: canonicalQueueName(item.proxy.queueName),
          options,
        });
        await this.host.broker.enqueue(due);
        await this.host.runner.postProcess(item.proxy, item.consumer);
      } catch (error) {
        this.host.logger.error(
          `Could not re-enqueue delayed message ${item.proxy.messageId}; it stays on ${this.queueName}.`,
          error,
        );
        await item.consumer.requeue([item.proxy]).catch(() => undefined);
      }
      if (this.delayed.size === 0) this.host.delayedDrained();
    }
    this.scheduleDelayed();
  }

  private async returnDelayed(consumer: Consumer | undefined): Promise<void> {
    const items = this.drainDelayed();
    if (consumer && items.length)
      await consumer.requeue(items.map((item) => item.proxy)).catch(() => undefined);
  }
}
