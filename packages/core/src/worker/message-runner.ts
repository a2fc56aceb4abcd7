import type { Actor } from "../actor.js";
import type { Broker } from "../broker.js";
import { sleep } from "../clock.js";
import type { Consumer, MessageProxy } from "../consumer.js";
import { ConnectionError, SkipMessage } from "../errors.js";
import { executionStore, type ExecutionContext } from "../execution.js";
import { Heap } from "../heap.js";
import type { Logger } from "../logger.js";
import { Settlement, type EnqueueRetryOptions } from "../settlement.js";
import { describe, logFailure, returnMessage } from "./message-failures.js";

/** What a `MessageRunner` needs from the worker that owns it. */
export interface RunnerSettings {
  readonly broker: Broker;
  readonly logger: Logger;
  /** How many messages may run at once. */
  readonly concurrency: number;
  /** Whether the worker is paused: no message starts meanwhile. */
  readonly paused: boolean;
  /** Whether the worker is stopping: no message starts any more. */
  readonly stopping: boolean;
  /** Called when nothing runs or settles any more (for the worker's `stop()` and `join()`). */
  settled(): void;
  /** Wait between attempts to ack, nack or requeue while the broker is unreachable, in ms. */
  readonly restartDelay: number;
  readonly enqueueRetry: EnqueueRetryOptions;
  /** Aborted when the worker stops: ends the retries above. */
  readonly stopSignal: AbortSignal;
  /** Runs a message of an isolated actor in a worker thread. */
  readonly runIsolated: (actor: Actor, proxy: MessageProxy) => Promise<unknown>;
}

/** A message queued to run, or running. */
export interface WorkItem {
  priority: number;
  sequence: number;
  proxy: MessageProxy;
  consumer: Consumer;
  actor: Actor;
}

/**
 * The worker's work queue (actor priority, then FIFO) and its concurrency slots: runs each message
 * through the process hooks and its actor, then settles it: waits for the work its ack depends on,
 * and acks, nacks or requeues it on the consumer that delivered it.
 */
export class MessageRunner {
  private overdueCount = 0;
  /** Messages that `stop()` returned to the broker while they ran. */
  private readonly abandoned = new Set<MessageProxy>();
  private readonly work = new Heap<WorkItem>(
    (a, b) => a.priority < b.priority || (a.priority === b.priority && a.sequence < b.sequence),
  );
  private readonly active = new Set<WorkItem>();
  /** Messages that ran and whose ack or nack is under way. */
  private settling = 0;
  private sequence = 0;

  constructor(private readonly settings: RunnerSettings) {}

  /** Invocations still running after an interrupt failed their message. */
  get overdue(): number {
    return this.overdueCount;
  }

  /** Messages running right now. */
  get activeCount(): number {
    return this.active.size;
  }

  /** Messages that ran and whose ack or nack is under way. */
  get settlingCount(): number {
    return this.settling;
  }

  /** Messages waiting in the work queue. */
  get pendingCount(): number {
    return this.work.size;
  }

  /** The messages running right now. */
  get running(): ReadonlySet<WorkItem> {
    return this.active;
  }

  /** The next FIFO tie-breaker, shared with the consumer loops' delay queues. */
  nextSequence(): number {
    return this.sequence++;
  }

  /** Empties the work queue, returning what it held (for the worker to give back). */
  drainQueued(): WorkItem[] {
    return this.work.drain();
  }

  /** Queues a valid delivery to run, and starts it if a slot is free. */
  enqueue(actor: Actor, consumer: Consumer, proxy: MessageProxy): void {
    this.work.push({
      priority: actor.priority,
      sequence: this.sequence++,
      proxy,
      consumer,
      actor,
    });
    this.pump();
  }

  /** Starts queued messages while slots are free and the worker is neither paused nor stopping. */
  pump(): void {
    const settings = this.settings;
    while (
      !settings.paused &&
      !settings.stopping &&
      this.active.size < settings.concurrency &&
      this.work.size > 0
    ) {
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
      await executionStore.run(context, () =>
        this.settings.broker.processWithin(proxy, () => this.run(proxy, item.actor, context)),
      );
    } catch (error) {
      this.settings.logger.error(
        `Unexpected failure while processing message ${proxy.messageId}.`,
        error,
      );
    }
    // Work the actor left running in this context enqueues as anyone else from here on.
    const settlement = context.settlement;
    context.settlement = undefined;
    this.active.delete(item);
    this.pump();
    if (!this.release(proxy)) {
      this.settling++;
      try {
        if (settlement && !settlement.empty) await this.settle(proxy, consumer, settlement);
        else await this.postProcess(proxy, consumer);
      } finally {
        this.settling--;
      }
    }
    if (this.active.size === 0 && this.settling === 0) this.settings.settled();
  }

  /** Marks a running message as returned to the broker: its outcome will be dropped. */
  abandon(proxy: MessageProxy): void {
    this.abandoned.add(proxy);
  }

  /** @returns whether the message had been abandoned (and forgets it) */
  private release(proxy: MessageProxy): boolean {
    return this.abandoned.delete(proxy);
  }

  /** Runs the process hooks and the actor; leaves the message's `Settlement` in `context`. */
  private async run(proxy: MessageProxy, actor: Actor, context: ExecutionContext): Promise<void> {
    const { broker, logger, stopSignal, enqueueRetry } = this.settings;
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
      context.settlement = new Settlement(proxy.messageId, logger, stopSignal, enqueueRetry);
      if (SkipMessage.isInstance(error)) {
        // As Dramatiq: a skip that failed the message (AgeLimit) is its error, for Results and dead letters.
        if (proxy.failed) proxy.stuffException(error);
        logger.debug(`Skipped message ${proxy.messageId}.`);
        await broker.emitAfter("skipMessage", proxy);
        return;
      }
      logFailure(this.settings.logger, actor, proxy, error);
      proxy.stuffException(error);
      const after = broker.emitAfter("processMessage", proxy, { exception: error });
      if (after) await after;
      return;
    }
    if (this.abandoned.has(proxy)) return this.forget(proxy);
    context.settlement = new Settlement(proxy.messageId, logger, stopSignal, enqueueRetry);
    const after = broker.emitAfter("processMessage", proxy, { result });
    if (after) await after;
  }

  // `stop()` returned this message to the broker while it ran: its outcome is not this worker's
  // any more (no retry, no next step), or it would run twice.
  private forget(proxy: MessageProxy): void {
    this.settings.logger.warn(
      `Message ${proxy.messageId} (${proxy.actorName}) finished after the worker returned it to the broker; its outcome is dropped.`,
    );
  }

  /**
   * Invokes the actor. An async invocation that an interrupt (time limit, shutdown) cuts short
   * fails with the interrupt, but only once it settled: its message is not retried while it still
   * runs, so one message never runs twice at once (it is counted in `overdue` meanwhile).
   */
  private runActor(actor: Actor, proxy: MessageProxy): unknown {
    if (proxy.interruptedBy) throw proxy.interruptedBy;
    // An isolated actor runs in a thread that an interrupt terminates (after its grace): its
    // invocation then settles at once, with the interrupt.
    const value = actor.isolation
      ? this.settings.runIsolated(actor, proxy)
      : actor.invoke(proxy.args, proxy.kwargs);
    if (!value || typeof (value as PromiseLike<unknown>).then !== "function") return value;
    return new Promise((resolve, reject) => {
      let overdue = false;
      let done = false;
      let graceTimer: ReturnType<typeof setTimeout> | undefined;
      proxy.onInterrupt = (reason, grace) => {
        overdue = true;
        this.overdueCount++;
        // An interrupt with a grace (an abort) expects the invocation to go on for a while.
        const text = `Message ${proxy.messageId} (${proxy.actorName}) was interrupted (${reason.message}); it will fail once its invocation returns${grace === undefined ? "" : ` or after ${grace} ms`}.`;
        if (grace === undefined) this.settings.logger.warn(text);
        else this.settings.logger.info(text);
        // With a grace, stop waiting for an invocation that ignores its signal: the slot is freed.
        if (grace !== undefined)
          graceTimer = setTimeout(() => {
            this.settings.logger.warn(
              `Message ${proxy.messageId} (${proxy.actorName}) ignored its interrupt for ${grace} ms; no longer waiting for it.`,
            );
            settled(() => undefined);
          }, grace);
      };
      const settled = (outcome: () => void) => {
        if (done) return; // given up on after its grace
        done = true;
        clearTimeout(graceTimer);
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
  async settle(proxy: MessageProxy, consumer: Consumer, settlement: Settlement): Promise<void> {
    await settlement.done();
    const failures = settlement.failures;
    if (failures.length === 0) return this.postProcess(proxy, consumer);
    const logger = this.settings.logger;
    if (settlement.transient) {
      logger.error(
        `Requeuing message ${proxy.messageId} (${proxy.actorName}): work its ack depends on failed: ${describe(failures[0])}`,
        failures[0],
      );
      return returnMessage(this.settings, proxy, consumer);
    }
    const reason = failures.find((error) => !ConnectionError.isInstance(error));
    logger.error(
      `Dead-lettering message ${proxy.messageId} (${proxy.actorName}): work its ack depends on failed for good: ${describe(reason)}`,
      reason,
    );
    proxy.fail();
    proxy.stuffException(reason);
    return this.postProcess(proxy, consumer);
  }

  /** Acks or nacks a message on the consumer that delivered it, with the hooks. */
  async postProcess(proxy: MessageProxy, consumer: Consumer): Promise<void> {
    const { broker, logger, stopSignal, restartDelay } = this.settings;
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
        if (ConnectionError.isInstance(error) && !stopSignal.aborted) {
          logger.error(
            `Could not ${proxy.failed ? "nack" : "ack"} message ${proxy.messageId}; retrying in ${restartDelay} ms.`,
            error,
          );
          await sleep(restartDelay, stopSignal, broker.clock);
          continue;
        }
        logger.error(
          `Could not ${proxy.failed ? "nack" : "ack"} message ${proxy.messageId}; the broker will redeliver it.`,
          error,
        );
        return;
      }
    }
  }
}
