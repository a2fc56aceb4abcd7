import type { Broker } from "../broker.js";
import { envInteger } from "../env.js";
import { executionStore } from "../execution.js";
import type { Logger } from "../logger.js";
import { sleep } from "../clock.js";
import { canonicalQueueName, isDelayQueueName } from "../queue-names.js";
import type { EnqueueRetryOptions } from "../settlement.js";
import { positiveInteger, type WorkerOptions } from "./worker-options.js";
import { ConsumerLoop, type LoopHost } from "./consumer-loop.js";
import { MessageRunner } from "./message-runner.js";
import { MessageReturns } from "./message-returns.js";
import { ThreadPool } from "../isolation/thread-pool.js";
import { inIsolationThread } from "../isolation/thread-registry.js";

/**
 * Runs actors: one consumer per queue and delay queue feeds an in-memory work queue (actor
 * priority, then FIFO), from which up to `concurrency` messages run at once. Delayed messages are
 * held until due, then re-enqueued on their queue. This class is the lifecycle (options, start,
 * pause, join, stop); a delivery's walk does not pass through it: `ConsumerLoop` fetches, decodes
 * and routes it, and `MessageRunner` queues, runs and acks it.
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

  private readonly loops = new Map<string, ConsumerLoop>();
  private started = false;
  private stopping = false;
  private readonly stopController = new AbortController();
  private readonly runner: MessageRunner;
  private readonly loopHost: LoopHost;
  private resumeWaiters: (() => void)[] = [];
  /** `stop()` waiting for running and settling messages. */
  private settledWaiters: (() => void)[] = [];
  /** `join()` callers waiting for the worker to hold nothing. */
  private joinWaiters: (() => void)[] = [];
  private undeclare: (() => void) | undefined;
  /** The threads of isolated actors, made when the first isolated message runs. */
  private pool: ThreadPool | undefined;

  constructor(broker: Broker, options: WorkerOptions = {}) {
    this.broker = broker;
    this.queues = options.queues ? new Set(options.queues.map(canonicalQueueName)) : undefined;
    this.concurrency = positiveInteger("concurrency", options.concurrency ?? 8);
    this.workerTimeout = positiveInteger(
      "workerTimeout",
      options.workerTimeout ?? envInteger("dramatiq_worker_timeout", 1000),
    );
    this.queuePrefetch = positiveInteger(
      "queuePrefetch",
      options.queuePrefetch ??
        envInteger("dramatiq_queue_prefetch", Math.min(2 * this.concurrency, 65535)),
    );
    this.delayQueuePrefetch = positiveInteger(
      "delayQueuePrefetch",
      options.delayQueuePrefetch ??
        envInteger("dramatiq_delay_queue_prefetch", Math.min(1000 * this.concurrency, 65535)),
    );
    this.restartDelay = options.restartDelay ?? envInteger("dramatiq_restart_delay", 3000);
    this.enqueueRetry = { ...options.enqueueRetry };
    for (const key of ["attempts", "minBackoff", "maxBackoff"] as const) {
      const value = this.enqueueRetry[key];
      if (value !== undefined) positiveInteger(`enqueueRetry.${key}`, value);
    }
    this.logger = options.logger ?? broker.logger;
    const stopSignal = this.stopController.signal;
    const isPaused = () => this.paused;
    const isStopping = () => this.stopping;
    this.runner = new MessageRunner({
      broker,
      logger: this.logger,
      concurrency: this.concurrency,
      get paused() {
        return isPaused();
      },
      get stopping() {
        return isStopping();
      },
      settled: () => this.notifySettled(),
      restartDelay: this.restartDelay,
      enqueueRetry: this.enqueueRetry,
      stopSignal,
      runIsolated: (actor, proxy) => {
        this.pool ??= new ThreadPool(this.concurrency, options.isolation ?? {}, this.logger);
        // The thread exposes the message to `CurrentMessage` when the middleware did here.
        const current = executionStore.getStore()?.current === proxy;
        return this.pool.run(actor, proxy, current);
      },
    });
    this.loopHost = {
      broker,
      logger: this.logger,
      runner: this.runner,
      workerTimeout: this.workerTimeout,
      restartDelay: this.restartDelay,
      stopSignal,
      get paused() {
        return isPaused();
      },
      whenResumed: (stopped) => this.whenResumed(stopped),
      delayedDrained: () => this.checkJoin(),
    };
  }

  /** Aborted when the worker stops. */
  get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  /** Messages running right now. */
  get activeCount(): number {
    return this.runner.activeCount;
  }

  /**
   * Invocations still running after an interrupt (`TimeLimitExceeded`, `Shutdown`) failed their
   * message: actors that ignore their signal. Each keeps its concurrency slot, and its message is
   * neither retried nor acked until the invocation settles; `afterProcessMessage` runs only then.
   * A supervisor recycles a process whose overdue invocations do not settle within a grace.
   */
  get overdue(): number {
    return this.runner.overdue;
  }

  /** Messages waiting in the in-memory work queue. */
  get pendingCount(): number {
    return this.runner.pendingCount;
  }

  /** Starts consuming every declared queue (and those declared later). */
  async start(): Promise<void> {
    // An isolated actor's module imported in its thread may start a worker at its top level.
    if (this.started || inIsolationThread) return;
    this.started = true;
    await this.broker.emitBefore("workerBoot", this);
    this.undeclare = this.broker.onDeclare((queueName) => this.addConsumer(queueName));
    await this.broker.emitAfter("workerThreadBoot", this);
    await this.broker.emitAfter("workerBoot", this);
    this.logger.debug(
      `Worker started with concurrency ${this.concurrency} on queues ${[...this.loops.keys()].join(", ")}.`,
    );
  }

  /** Starts a consumer for a newly declared queue (if this worker takes it). */
  private addConsumer(queueName: string): void {
    if (this.stopping || this.loops.has(queueName)) return;
    if (this.queues && !this.queues.has(canonicalQueueName(queueName))) return;
    const prefetch = isDelayQueueName(queueName) ? this.delayQueuePrefetch : this.queuePrefetch;
    const loop = new ConsumerLoop(this.loopHost, queueName, prefetch);
    this.loops.set(queueName, loop);
    loop.start();
  }

  private whenResumed(stopped: Promise<void>): Promise<void> {
    if (!this.paused) return Promise.resolve();
    return Promise.race([
      new Promise<void>((resolve) => this.resumeWaiters.push(resolve)),
      stopped,
    ]);
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
    this.runner.pump();
  }

  private notifySettled(): void {
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const wake of waiters) wake();
    this.checkJoin();
  }

  /** Whether nothing is queued, running, settling, or held delayed. */
  private get idle(): boolean {
    const runner = this.runner;
    if (runner.activeCount > 0 || runner.settlingCount > 0 || runner.pendingCount > 0) return false;
    for (const loop of this.loops.values()) if (loop.heldCount > 0) return false;
    return true;
  }

  /** Wakes the `join()` callers when the worker became idle. */
  private checkJoin(): void {
    if (this.joinWaiters.length === 0 || !this.idle) return;
    const waiters = this.joinWaiters;
    this.joinWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Waits until the work queue is empty, nothing runs, and no delayed message is held (for tests;
   * combine with `broker.join`).
   */
  join(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.joinWaiters.push(resolve));
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
    if (this.runner.activeCount > 0 || this.runner.settlingCount > 0) {
      const timer = new AbortController();
      await Promise.race([
        new Promise<void>((resolve) => this.settledWaiters.push(resolve)),
        sleep(timeout, timer.signal, broker.clock),
      ]);
      timer.abort();
    }
    await broker.emitBefore("workerThreadShutdown", this);
    this.stopController.abort();
    this.undeclare?.();
    this.undeclare = undefined;

    const returns = new MessageReturns();
    for (const item of this.runner.drainQueued()) returns.give(item.consumer, item.proxy);
    for (const item of this.runner.running) {
      this.runner.abandon(item.proxy);
      returns.give(item.consumer, item.proxy);
    }
    await Promise.all([...this.loops.values()].map((loop) => loop.done));
    // Close before returning messages: a pending next() woken by the requeue below would
    // otherwise deliver a message to a loop that is gone, and nobody would return it.
    await Promise.all(
      [...this.loops.values()].map(async (loop) => {
        await loop.consumer
          ?.close()
          .catch((error: unknown) =>
            this.logger.error(`Could not close the consumer of ${loop.queueName}.`, error),
          );
        await loop.pendingNext;
      }),
    );
    for (const loop of this.loops.values()) {
      for (const item of loop.drainDelayed()) returns.give(item.consumer, item.proxy);
      for (const item of loop.stragglers.splice(0)) returns.give(item.consumer, item.proxy);
    }
    const requeued = await returns.requeueAll(this.logger);
    await this.pool?.close();
    this.pool = undefined;
    this.loops.clear();
    this.checkJoin();
    await broker.emitAfter("workerShutdown", this);
    if (requeued)
      this.logger.info(`Returned ${requeued} message${requeued === 1 ? "" : "s"} to the broker.`);
    return { requeued };
  }
}
