import type { Actor } from "./actor.js";
import type { Broker } from "./broker.js";
import { sleep } from "./clock.js";
import type { Consumer, MessageProxy } from "./consumer.js";
import { envInteger } from "./env.js";
import { ActorNotFound, ConnectionError, InvalidOptionError, RateLimitExceeded, Retry, SkipMessage } from "./errors.js";
import { executionStore, type ExecutionContext } from "./execution.js";
import { Heap } from "./heap.js";
import type { Logger } from "./logger.js";
import { Message } from "./message.js";
import { Middleware } from "./middleware/middleware.js";
import { canonicalQueueName, isDelayQueueName } from "./queue-names.js";
import type { Throws } from "./middleware/retries.js";
import { Settlement, type EnqueueRetryOptions } from "./settlement.js";

/** What `new Worker(broker, options)` takes. */
export interface WorkerOptions {
  /** Consume only these (canonical) queues and their delay queues; default all declared. */
  queues?: readonly string[];
  /** Idle wake-up of consumers, in ms (default env `dramatiq_worker_timeout` or 1000). */
  workerTimeout?: number;
  /** Messages processed at once in this process: Dramatiq's worker threads (default 8). */
  concurrency?: number;
  /** Unacked messages per queue consumer (default env `dramatiq_queue_prefetch` or 2 × concurrency). */
  queuePrefetch?: number;
  /** Unacked messages per delay-queue consumer (default env `dramatiq_delay_queue_prefetch` or 1000 × concurrency). */
  delayQueuePrefetch?: number;
  /** Wait before restarting a consumer that failed (default env `dramatiq_restart_delay` or 3000 ms). */
  restartDelay?: number;
  /**
   * How an enqueue that a message's ack depends on (a retry, a pipeline step, a callback, a group
   * completion) is retried while the broker is unreachable, before the message is requeued.
   */
  enqueueRetry?: EnqueueRetryOptions;
  logger?: Logger;
}

interface WorkItem {
  priority: number;
  sequence: number;
  proxy: MessageProxy;
  loop: ConsumerLoop;
  consumer: Consumer;
  actor: Actor;
}

interface DelayedItem {
  eta: number;
  sequence: number;
  proxy: MessageProxy;
  consumer: Consumer;
}

const isError = (value: unknown): value is Error => value instanceof Error;
const describe = (error: unknown): string => (isError(error) ? `${error.name}: ${error.message}` : String(error));

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidOptionError(`invalid ${name} ${String(value)}: expected an integer >= 1`);
  return value;
}

/** One queue's consumer, its fetch loop and its in-memory delay queue. */
class ConsumerLoop {
  consumer: Consumer | undefined;
  readonly delayed = new Heap<DelayedItem>((a, b) => a.eta < b.eta || (a.eta === b.eta && a.sequence < b.sequence));
  running = true;
  done: Promise<void> = Promise.resolve();
  private delayTimer: NodeJS.Timeout | undefined;
  private delayTimerAt = Infinity;
  private stopWaiter: (() => void) | undefined;
  private cancelNext: (() => void) | undefined;
  /** The fetch that was pending when the loop stopped; settles once its consumer is closed. */
  pendingNext: Promise<unknown> | undefined;
  /** Deliveries that arrived after the loop was told to stop; returned on close. */
  readonly stragglers: { proxy: MessageProxy; consumer: Consumer }[] = [];

  constructor(
    private readonly worker: Worker,
    readonly queueName: string,
    readonly prefetch: number,
  ) {}

  start(): void {
    this.done = this.run();
  }

  stop(): void {
    this.running = false;
    this.stopWaiter?.();
    this.cancelNext?.();
    clearTimeout(this.delayTimer);
  }

  private async run(): Promise<void> {
    const { broker } = this.worker;
    const stopped = new Promise<void>((resolve) => (this.stopWaiter = resolve));
    while (this.running) {
      let consumer: Consumer | undefined;
      try {
        consumer = broker.consume(this.queueName, { prefetch: this.prefetch, timeout: this.worker.workerTimeout });
        this.consumer = consumer;
        await broker.emitAfter("consumerThreadBoot", this.queueName);
        while (this.running) {
          if (this.worker.paused) await this.worker.whenResumed(stopped);
          if (!this.running) break;
          // Prefetched messages are taken without a promise each; the buffer bounds this loop.
          let proxy: MessageProxy | null | undefined = consumer.nextReady();
          if (proxy === undefined) {
            const result = await this.waitNext(consumer);
            if (result === undefined || result.done) break;
            proxy = result.value;
          }
          if (proxy) {
            const handled = this.worker.handleMessage(this, consumer, proxy);
            if (handled) await handled;
          }
          if (this.delayed.size > 0) await this.handleDelayed();
        }
      } catch (error) {
        if (!this.running) break;
        const restartDelay = this.worker.restartDelay;
        if (ConnectionError.isInstance(error)) {
          this.worker.logger.error(`Consumer of ${this.queueName} lost its connection; restarting in ${restartDelay} ms.`, error);
          // The broker redelivers what this consumer held (Redis: once reconnected, see release).
          for (const item of this.delayed.drain()) item.consumer.release([item.proxy]);
        } else {
          this.worker.logger.error(`Consumer of ${this.queueName} failed unexpectedly; restarting in ${restartDelay} ms.`, error);
          await this.returnDelayed(consumer);
        }
        await consumer?.close().catch(() => undefined);
        if (this.consumer === consumer) this.consumer = undefined;
        await sleep(restartDelay, this.worker.stopSignal);
      }
    }
    await broker.emitBefore("consumerThreadShutdown", this.queueName);
  }

  /**
   * Awaits the consumer's next delivery, or `undefined` when the loop is stopped first (the
   * delivery, if one comes late, is kept in `stragglers` for the worker to return).
   */
  private async waitNext(consumer: Consumer): Promise<IteratorResult<MessageProxy | null> | undefined> {
    const next = consumer.next();
    // Not Promise.race with `stopped`: that would add a reaction to the never-settling
    // `stopped` promise for every delivery (a leak and a per-message allocation).
    const result = await new Promise<IteratorResult<MessageProxy | null> | undefined>((resolve, reject) => {
      this.cancelNext = () => resolve(undefined);
      next.then(resolve, reject);
    });
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
    this.delayed.push({ eta, sequence: this.worker.nextSequence(), proxy, consumer });
    this.scheduleDelayed();
  }

  private scheduleDelayed(): void {
    const next = this.delayed.peek();
    if (!next || !this.running) return;
    if (next.eta >= this.delayTimerAt && this.delayTimer) return;
    clearTimeout(this.delayTimer);
    this.delayTimerAt = next.eta;
    this.delayTimer = setTimeout(() => {
      this.delayTimer = undefined;
      this.delayTimerAt = Infinity;
      void this.handleDelayed();
    }, Math.max(0, next.eta - this.worker.broker.clock.now()));
  }

  /** Re-enqueues the delayed messages that are due on their canonical queue, then acks them. */
  async handleDelayed(): Promise<void> {
    const now = this.worker.broker.clock.now();
    while (this.running && (this.delayed.peek()?.eta ?? Infinity) <= now) {
      const item = this.delayed.pop()!;
      try {
        const options = { ...item.proxy.options };
        delete options.eta;
        const due = new Message({ ...item.proxy.message, queueName: canonicalQueueName(item.proxy.queueName), options });
        await this.worker.broker.enqueue(due);
        await this.worker.postProcess(item.proxy, item.consumer);
      } catch (error) {
        this.worker.logger.error(`Could not re-enqueue delayed message ${item.proxy.messageId}; it stays on ${this.queueName}.`, error);
        await item.consumer.requeue([item.proxy]).catch(() => undefined);
      }
    }
    this.scheduleDelayed();
  }

  private async returnDelayed(consumer: Consumer | undefined): Promise<void> {
    const items = this.delayed.drain();
    if (consumer && items.length) await consumer.requeue(items.map((item) => item.proxy)).catch(() => undefined);
  }
}

/** Starts consumers for queues declared before and after the worker's `start()`. */
class WorkerDeclarations extends Middleware {
  constructor(private readonly worker: Worker) {
    super();
  }
  override afterDeclareQueue(_broker: Broker, queueName: string): void {
    this.worker.addConsumer(queueName);
  }
  override afterDeclareDelayQueue(_broker: Broker, queueName: string): void {
    this.worker.addConsumer(queueName);
  }
}

/**
 * Runs actors: one consumer per queue and delay queue feeds an in-memory work queue (actor
 * priority, then FIFO), from which up to `concurrency` messages run at once. Delayed messages are
 * held until due, then re-enqueued on their queue.
 */
export class Worker {
  readonly broker: Broker;
  readonly queues: ReadonlySet<string> | undefined;
  readonly workerTimeout: number;
  readonly concurrency: number;
  readonly queuePrefetch: number;
  readonly delayQueuePrefetch: number;
  readonly restartDelay: number;
  readonly enqueueRetry: EnqueueRetryOptions;
  readonly logger: Logger;
  paused = false;
  private overdueCount = 0;

  private readonly loops = new Map<string, ConsumerLoop>();
  private readonly work = new Heap<WorkItem>((a, b) => a.priority < b.priority || (a.priority === b.priority && a.sequence < b.sequence));
  private readonly active = new Set<WorkItem>();
  /** Messages that ran and whose ack or nack is under way. */
  private settling = 0;
  private sequence = 0;
  private started = false;
  private stopping = false;
  private readonly stopController = new AbortController();
  private readonly abandoned = new Set<MessageProxy>();
  private resumeWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private readonly declarations: Middleware;

  constructor(broker: Broker, options: WorkerOptions = {}) {
    this.broker = broker;
    this.queues = options.queues ? new Set(options.queues.map(canonicalQueueName)) : undefined;
    this.concurrency = positiveInteger("concurrency", options.concurrency ?? 8);
    this.workerTimeout = positiveInteger("workerTimeout", options.workerTimeout ?? envInteger("dramatiq_worker_timeout", 1000));
    this.queuePrefetch = positiveInteger("queuePrefetch", options.queuePrefetch ?? envInteger("dramatiq_queue_prefetch", Math.min(2 * this.concurrency, 65535)));
    this.delayQueuePrefetch = positiveInteger(
      "delayQueuePrefetch",
      options.delayQueuePrefetch ?? envInteger("dramatiq_delay_queue_prefetch", Math.min(1000 * this.concurrency, 65535)),
    );
    this.restartDelay = options.restartDelay ?? envInteger("dramatiq_restart_delay", 3000);
    this.enqueueRetry = { ...options.enqueueRetry };
    for (const key of ["attempts", "minBackoff", "maxBackoff"] as const) {
      const value = this.enqueueRetry[key];
      if (value !== undefined) positiveInteger(`enqueueRetry.${key}`, value);
    }
    this.logger = options.logger ?? broker.logger;
    this.declarations = new WorkerDeclarations(this);
  }

  /** Aborted when the worker stops. */
  get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  /** Messages running right now. */
  get activeCount(): number {
    return this.active.size;
  }

  /**
   * Invocations still running after an interrupt (`TimeLimitExceeded`, `Shutdown`) failed their
   * message: actors that ignore their signal. Each keeps its concurrency slot, and its message is
   * neither retried nor acked until the invocation settles; `afterProcessMessage` runs only then.
   * A supervisor recycles a process whose overdue invocations do not settle within a grace.
   */
  get overdue(): number {
    return this.overdueCount;
  }

  /** Messages waiting in the in-memory work queue. */
  get pendingCount(): number {
    return this.work.size;
  }

  /** @internal */
  nextSequence(): number {
    return this.sequence++;
  }

  /** Starts consuming every declared queue (and those declared later). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.broker.emitBefore("workerBoot", this);
    this.broker.addMiddleware(this.declarations);
    await this.broker.emitAfter("workerThreadBoot", this);
    await this.broker.emitAfter("workerBoot", this);
    this.logger.debug(`Worker started with concurrency ${this.concurrency} on queues ${[...this.loops.keys()].join(", ")}.`);
  }

  /** @internal Starts a consumer for a newly declared queue (if this worker takes it). */
  addConsumer(queueName: string): void {
    if (this.stopping || this.loops.has(queueName)) return;
    if (this.queues && !this.queues.has(canonicalQueueName(queueName))) return;
    const prefetch = isDelayQueueName(queueName) ? this.delayQueuePrefetch : this.queuePrefetch;
    const loop = new ConsumerLoop(this, queueName, prefetch);
    this.loops.set(queueName, loop);
    loop.start();
  }

  /**
   * @internal Routes one delivery: hold it if delayed, dead-letter it if unusable, else queue it.
   * @returns a Promise only when there is something to wait for (most deliveries are queued at once)
   */
  handleMessage(loop: ConsumerLoop, consumer: Consumer, proxy: MessageProxy): void | Promise<void> {
    const options = proxy.options;
    if ("eta" in options) {
      if (options.eta === null || options.eta === undefined) {
        delete options.eta;
      } else if (typeof options.eta !== "number" || !Number.isFinite(options.eta)) {
        this.logger.warn(`Message ${proxy.messageId} has an invalid eta ${JSON.stringify(options.eta)}; running it now.`);
        options.eta = this.broker.clock.now();
      }
    }
    if (proxy.undecodable) {
      this.logger.error(`Dead-lettering a message on ${loop.queueName} that does not decode: ${(proxy.exception as Error).message}`, proxy.exception);
      return this.postProcess(proxy, consumer);
    }
    if (options.eta !== undefined) {
      const eta = options.eta;
      const before = this.broker.emitBefore("delayMessage", proxy);
      if (!before) return loop.holdDelayed(proxy, consumer, eta);
      return before.then(() => loop.holdDelayed(proxy, consumer, eta));
    }
    let actor: Actor;
    try {
      actor = this.broker.getActor(proxy.actorName);
      actor.validateArgs(proxy.args);
      // Option values from another producer are checked as the actor's own were at declaration.
      this.broker.validateOptions(proxy.options, `message ${proxy.messageId} (${proxy.actorName})`);
    } catch (error) {
      const what = ActorNotFound.isInstance(error) ? "for an unknown actor" : InvalidOptionError.isInstance(error) ? "with an invalid option" : "with invalid arguments";
      this.logger.error(`Dead-lettering message ${proxy.messageId} ${what}: ${(error as Error).message}`);
      proxy.fail();
      proxy.stuffException(error);
      return this.postProcess(proxy, consumer);
    }
    this.work.push({ priority: actor.priority, sequence: this.sequence++, proxy, loop, consumer, actor });
    this.pump();
  }

  private pump(): void {
    while (!this.paused && !this.stopping && this.active.size < this.concurrency && this.work.size > 0) {
      const item = this.work.pop()!;
      this.active.add(item);
      void this.process(item);
    }
  }

  /**
   * Runs one message, then acks or nacks it. The concurrency slot is freed as soon as the message
   * has run, as Dramatiq's worker threads hand acks to their consumer thread: the next message
   * starts while the ack travels (the prefetch window still bounds what is unacked).
   */
  private async process(item: WorkItem): Promise<void> {
    const { proxy, consumer } = item;
    const context: ExecutionContext = { message: proxy, current: null, settlement: undefined };
    try {
      await executionStore.run(context, () => this.processMessage(item, context));
    } catch (error) {
      this.logger.error(`Unexpected failure while processing message ${proxy.messageId}.`, error);
    }
    // Work the actor left running in this context enqueues as anyone else from here on.
    const settlement = context.settlement;
    context.settlement = undefined;
    this.active.delete(item);
    this.pump();
    if (!this.abandoned.delete(proxy)) {
      this.settling++;
      try {
        if (settlement && !settlement.empty) await this.settle(proxy, consumer, settlement);
        else await this.postProcess(proxy, consumer);
      } finally {
        this.settling--;
      }
    }
    if (this.active.size === 0 && this.settling === 0) this.notifyIdle();
  }

  private async processMessage({ proxy, actor }: WorkItem, context: ExecutionContext): Promise<void> {
    const broker = this.broker;
    let result: unknown;
    try {
      const before = broker.emitBefore("processMessage", proxy);
      if (before) await before;
      if (!proxy.failed) {
        result = this.runActor(actor, proxy);
        // Awaited only when the actor returned a Promise: an await costs promises under async hooks.
        if (result instanceof Promise) result = await result;
      }
    } catch (error) {
      if (this.abandoned.has(proxy)) return this.forget(proxy);
      context.settlement = new Settlement(proxy.messageId, this.logger, this.stopController.signal, this.enqueueRetry);
      if (SkipMessage.isInstance(error)) {
        // As Dramatiq: a skip that failed the message (AgeLimit) is its error, for Results and dead letters.
        if (proxy.failed) proxy.stuffException(error);
        this.logger.debug(`Skipped message ${proxy.messageId}.`);
        await broker.emitAfter("skipMessage", proxy);
        return;
      }
      this.logFailure(actor, proxy, error);
      proxy.stuffException(error);
      const after = broker.emitAfter("processMessage", proxy, { exception: error });
      if (after) await after;
      return;
    }
    if (this.abandoned.has(proxy)) return this.forget(proxy);
    context.settlement = new Settlement(proxy.messageId, this.logger, this.stopController.signal, this.enqueueRetry);
    const after = broker.emitAfter("processMessage", proxy, { result });
    if (after) await after;
  }

  // `stop()` returned this message to the broker while it ran: its outcome is not this worker's
  // any more (no retry, no next step), or it would run twice.
  private forget(proxy: MessageProxy): void {
    this.logger.warn(`Message ${proxy.messageId} (${proxy.actorName}) finished after the worker returned it to the broker; its outcome is dropped.`);
  }

  /**
   * Invokes the actor. An async invocation that an interrupt (time limit, shutdown) cuts short
   * fails with the interrupt, but only once it settled: its message is not retried while it still
   * runs, so one message never runs twice at once (it is counted in `overdue` meanwhile).
   */
  private runActor(actor: Actor, proxy: MessageProxy): unknown {
    if (proxy.interruptedBy) throw proxy.interruptedBy;
    const value = actor.invoke(proxy.args, proxy.kwargs);
    if (!value || typeof (value as PromiseLike<unknown>).then !== "function") return value;
    return new Promise((resolve, reject) => {
      let overdue = false;
      proxy.onInterrupt = (reason) => {
        overdue = true;
        this.overdueCount++;
        this.logger.warn(`Message ${proxy.messageId} (${proxy.actorName}) was interrupted (${reason.message}); it will fail once its invocation returns.`);
      };
      const settled = (outcome: () => void) => {
        proxy.onInterrupt = undefined;
        if (overdue) this.overdueCount--;
        if (proxy.interruptedBy) reject(proxy.interruptedBy);
        else outcome();
      };
      (value as PromiseLike<unknown>).then(
        (result) => settled(() => resolve(result)),
        (error: unknown) => settled(() => reject(error)),
      );
    });
  }

  /**
   * Acks or nacks a message once the work its after-process hooks started is done; when an
   * enqueue it required failed, requeues it (the broker was unreachable) or dead-letters it with
   * the reason (a permanent failure, e.g. a message that cannot be encoded).
   */
  private async settle(proxy: MessageProxy, consumer: Consumer, settlement: Settlement): Promise<void> {
    await settlement.done();
    const failures = settlement.failures;
    if (failures.length === 0) return this.postProcess(proxy, consumer);
    if (settlement.transient) {
      this.logger.error(`Requeuing message ${proxy.messageId} (${proxy.actorName}): work its ack depends on failed: ${describe(failures[0])}`, failures[0]);
      return this.returnMessage(proxy, consumer);
    }
    const reason = failures.find((error) => !ConnectionError.isInstance(error));
    this.logger.error(`Dead-lettering message ${proxy.messageId} (${proxy.actorName}): work its ack depends on failed for good: ${describe(reason)}`, reason);
    proxy.fail();
    proxy.stuffException(reason);
    return this.postProcess(proxy, consumer);
  }

  /** Returns a message to its queue for redelivery, retrying while the broker is unreachable. */
  private async returnMessage(proxy: MessageProxy, consumer: Consumer): Promise<void> {
    for (;;) {
      try {
        return await consumer.requeue([proxy]);
      } catch (error) {
        if (ConnectionError.isInstance(error) && !this.stopController.signal.aborted) {
          this.logger.error(`Could not requeue message ${proxy.messageId}; retrying in ${this.restartDelay} ms.`, error);
          await sleep(this.restartDelay, this.stopController.signal);
          continue;
        }
        this.logger.error(`Could not requeue message ${proxy.messageId}; the broker will redeliver it.`, error);
        return;
      }
    }
  }

  private logFailure(actor: Actor, proxy: MessageProxy, error: unknown): void {
    if (RateLimitExceeded.isInstance(error) || Retry.isInstance(error)) {
      this.logger.debug(`Message ${proxy.messageId} (${actor.actorName}) will be retried: ${(error as Error).message}`);
      return;
    }
    const throws = (proxy.options.throws || actor.options.throws) as Throws | undefined;
    const listed = throws && (Array.isArray(throws) ? throws : [throws]).some((cls) => typeof cls === "function" && error instanceof cls);
    const text = `Failed to process message ${proxy.messageId} (${actor.actorName}) with ${listed ? "an expected" : "an unhandled"} exception.`;
    if (listed) this.logger.info(text, isError(error) ? `${error.name}: ${error.message}` : error);
    else this.logger.error(text, error);
  }

  /** @internal Acks or nacks a message on the consumer that delivered it, with the hooks. */
  async postProcess(proxy: MessageProxy, consumer: Consumer): Promise<void> {
    const broker = this.broker;
    for (;;) {
      try {
        // Hooks are awaited only when they return a Promise (most are synchronous).
        if (proxy.failed) {
          const before = broker.emitBefore("nack", proxy);
          if (before) await before;
          await consumer.nack(proxy);
          const after = broker.emitAfter("nack", proxy);
          if (after) await after;
        } else {
          const before = broker.emitBefore("ack", proxy);
          if (before) await before;
          await consumer.ack(proxy);
          const after = broker.emitAfter("ack", proxy);
          if (after) await after;
        }
        return;
      } catch (error) {
        if (ConnectionError.isInstance(error) && !this.stopController.signal.aborted) {
          this.logger.error(`Could not ${proxy.failed ? "nack" : "ack"} message ${proxy.messageId}; retrying in ${this.restartDelay} ms.`, error);
          await sleep(this.restartDelay, this.stopController.signal);
          continue;
        }
        this.logger.error(`Could not ${proxy.failed ? "nack" : "ack"} message ${proxy.messageId}; the broker will redeliver it.`, error);
        return;
      }
    }
  }

  /** @internal */
  whenResumed(stopped: Promise<void>): Promise<void> {
    if (!this.paused) return Promise.resolve();
    return Promise.race([new Promise<void>((resolve) => this.resumeWaiters.push(resolve)), stopped]);
  }

  /** Stops fetching and starting messages; running ones go on. */
  pause(): void {
    this.paused = true;
  }

  /** Resumes after `pause()`. */
  resume(): void {
    this.paused = false;
    const waiters = this.resumeWaiters;
    this.resumeWaiters = [];
    for (const wake of waiters) wake();
    this.pump();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Waits until the work queue is empty, nothing runs, and no delayed message is held (for tests;
   * combine with `broker.join`).
   */
  async join(): Promise<void> {
    for (;;) {
      const held = [...this.loops.values()].some((loop) => loop.delayed.size > 0);
      if (!held && this.active.size === 0 && this.settling === 0 && this.work.size === 0) return;
      await sleep(10);
    }
  }

  /**
   * Stops gracefully: interrupts messages that asked for shutdown notifications, waits up to
   * `timeout` ms (default 600 000) for running messages, then returns every message it still holds
   * (queued, prefetched, delayed, and those still running) to the broker and closes the consumers.
   * @returns how many messages were returned to the broker
   */
  async stop(options: { timeout?: number } = {}): Promise<{ requeued: number }> {
    if (!this.started || this.stopping) return { requeued: 0 };
    const timeout = options.timeout ?? 600_000;
    this.stopping = true;
    const broker = this.broker;
    await broker.emitBefore("workerShutdown", this);
    for (const loop of this.loops.values()) loop.stop();
    this.resume();
    if (this.active.size > 0 || this.settling > 0) {
      const timer = new AbortController();
      await Promise.race([new Promise<void>((resolve) => this.idleWaiters.push(resolve)), sleep(timeout, timer.signal)]);
      timer.abort();
    }
    await broker.emitBefore("workerThreadShutdown", this);
    this.stopController.abort();
    const index = broker.middleware.indexOf(this.declarations);
    if (index >= 0) broker.removeMiddleware(this.declarations);

    const returns = new Map<Consumer, MessageProxy[]>();
    const give = (consumer: Consumer | undefined, proxy: MessageProxy) => {
      if (!consumer) return;
      const list = returns.get(consumer) ?? [];
      list.push(proxy);
      returns.set(consumer, list);
    };
    for (const item of this.work.drain()) give(item.consumer, item.proxy);
    for (const item of this.active) {
      this.abandoned.add(item.proxy);
      give(item.consumer, item.proxy);
    }
    await Promise.all([...this.loops.values()].map((loop) => loop.done));
    // Close before returning messages: a pending next() woken by the requeue below would
    // otherwise deliver a message to a loop that is gone, and nobody would return it.
    await Promise.all(
      [...this.loops.values()].map(async (loop) => {
        await loop.consumer?.close().catch((error: unknown) => this.logger.error(`Could not close the consumer of ${loop.queueName}.`, error));
        await loop.pendingNext;
      }),
    );
    for (const loop of this.loops.values()) {
      for (const item of loop.delayed.drain()) give(item.consumer, item.proxy);
      for (const item of loop.stragglers.splice(0)) give(item.consumer, item.proxy);
    }
    let requeued = 0;
    for (const [consumer, proxies] of returns) {
      requeued += proxies.length;
      await consumer.requeue(proxies).catch((error: unknown) => this.logger.error("Could not return messages to the broker.", error));
    }
    this.loops.clear();
    await broker.emitAfter("workerShutdown", this);
    if (requeued) this.logger.info(`Returned ${requeued} message${requeued === 1 ? "" : "s"} to the broker.`);
    return { requeued };
  }
}
