import type { Actor } from "../actor.js";
import type { Broker } from "../broker.js";
import { sleep } from "../clock.js";
import type { Consumer, MessageProxy } from "../consumer.js";
import { ConnectionError, Interrupt, RateLimitExceeded, Retry, SkipMessage } from "../errors.js";
import type { ExecutionContext } from "../execution.js";
import type { Logger } from "../logger.js";
import type { Throws } from "../middleware/retries.js";
import { Settlement, type EnqueueRetryOptions } from "../settlement.js";

/** What a `MessageRunner` needs from the worker that owns it. */
export interface RunnerSettings {
  readonly broker: Broker;
  readonly logger: Logger;
  /** Wait between attempts to ack, nack or requeue while the broker is unreachable, in ms. */
  readonly restartDelay: number;
  readonly enqueueRetry: EnqueueRetryOptions;
  /** Aborted when the worker stops: ends the retries above. */
  readonly stopSignal: AbortSignal;
  /** Runs a message of an isolated actor in a worker thread. */
  readonly runIsolated: (actor: Actor, proxy: MessageProxy) => Promise<unknown>;
}

const isError = (value: unknown): value is Error => value instanceof Error;
const describe = (error: unknown): string =>
  isError(error) ? `${error.name}: ${error.message}` : String(error);

/**
 * Runs one message through the process hooks and its actor, then settles it: waits for the work
 * its ack depends on, and acks, nacks or requeues it on the consumer that delivered it.
 */
export class MessageRunner {
  private overdueCount = 0;
  /** Messages that `stop()` returned to the broker while they ran. */
  private readonly abandoned = new Set<MessageProxy>();

  constructor(private readonly settings: RunnerSettings) {}

  /** Invocations still running after an interrupt failed their message. */
  get overdue(): number {
    return this.overdueCount;
  }

  /** Marks a running message as returned to the broker: its outcome will be dropped. */
  abandon(proxy: MessageProxy): void {
    this.abandoned.add(proxy);
  }

  /** @returns whether the message had been abandoned (and forgets it) */
  release(proxy: MessageProxy): boolean {
    return this.abandoned.delete(proxy);
  }

  /** Runs the process hooks and the actor; leaves the message's `Settlement` in `context`. */
  async run(proxy: MessageProxy, actor: Actor, context: ExecutionContext): Promise<void> {
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
      this.logFailure(actor, proxy, error);
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
      return this.returnMessage(proxy, consumer);
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

  /** Returns a message to its queue for redelivery, retrying while the broker is unreachable. */
  private async returnMessage(proxy: MessageProxy, consumer: Consumer): Promise<void> {
    const { logger, stopSignal, restartDelay, broker } = this.settings;
    for (;;) {
      try {
        return await consumer.requeue([proxy]);
      } catch (error) {
        if (ConnectionError.isInstance(error) && !stopSignal.aborted) {
          logger.error(
            `Could not requeue message ${proxy.messageId}; retrying in ${restartDelay} ms.`,
            error,
          );
          await sleep(restartDelay, stopSignal, broker.clock);
          continue;
        }
        logger.error(
          `Could not requeue message ${proxy.messageId}; the broker will redeliver it.`,
          error,
        );
        return;
      }
    }
  }

  private logFailure(actor: Actor, proxy: MessageProxy, error: unknown): void {
    const logger = this.settings.logger;
    if (RateLimitExceeded.isInstance(error) || Retry.isInstance(error)) {
      logger.debug(
        `Message ${proxy.messageId} (${actor.actorName}) will be retried: ${(error as Error).message}`,
      );
      return;
    }
    if (Interrupt.isInstance(error) && error.final) {
      logger.info(`${error.name}: ${error.message}.`);
      return;
    }
    const throws = (proxy.options.throws || actor.options.throws) as Throws | undefined;
    const listed =
      throws &&
      (Array.isArray(throws) ? throws : [throws]).some(
        (cls) => typeof cls === "function" && error instanceof cls,
      );
    const text = `Failed to process message ${proxy.messageId} (${actor.actorName}) with ${listed ? "an expected" : "an unhandled"} exception.`;
    if (listed) logger.info(text, isError(error) ? `${error.name}: ${error.message}` : error);
    else logger.error(text, error);
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
