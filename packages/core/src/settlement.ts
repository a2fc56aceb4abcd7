import { computeBackoff, sleep } from "./clock.js";
import { ConnectionError } from "./errors.js";
import { executionStore } from "./execution.js";
import type { Logger } from "./logger.js";

/** How a worker retries an enqueue that a message's ack depends on, when the broker is unreachable. */
export interface EnqueueRetryOptions {
  /** Attempts in all, the first included (default 5). */
  attempts?: number;
  /** Backoff base in ms, doubled per attempt with jitter (default 100). */
  minBackoff?: number;
  /** Backoff cap in ms (default 2000). */
  maxBackoff?: number;
}

/**
 * What the ack of one message waits for: the enqueues its `afterProcessMessage` (and
 * `afterSkipMessage`) hooks made — a retry, the next pipeline step, callbacks, a group's
 * completion — and any other work registered with `holdAck`. The worker acks the message only
 * when all of it is done; when a required part failed, it requeues the message (every failure a
 * `ConnectionError`) or dead-letters it with the failure as its exception.
 * @internal
 */
export class Settlement {
  private pending: Promise<unknown>[] | undefined;
  /** Failures of required work, in the order they happened. */
  readonly failures: unknown[] = [];
  private readonly attempts: number;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;

  constructor(
    /** The id of the message being settled, for log lines. */
    readonly messageId: string,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
    retry: EnqueueRetryOptions,
  ) {
    this.attempts = retry.attempts ?? 5;
    this.minBackoff = retry.minBackoff ?? 100;
    this.maxBackoff = retry.maxBackoff ?? 2000;
  }

  /** Whether there is anything to wait for or report. */
  get empty(): boolean {
    return this.pending === undefined && this.failures.length === 0;
  }

  /** Waits for `work`; when `required` and it rejects, the failure is recorded. */
  hold(work: Promise<unknown>, required: boolean): void {
    const tracked = work.then(undefined, (error: unknown) => {
      if (required) this.failures.push(error);
    });
    (this.pending ??= []).push(tracked);
  }

  /** Records a failure of required work that did not come as a Promise. */
  fail(error: unknown): void {
    this.failures.push(error);
  }

  /** Resolves once every held piece of work settled (including work held meanwhile). */
  async done(): Promise<void> {
    while (this.pending?.length) {
      const batch = this.pending;
      this.pending = [];
      await Promise.all(batch);
    }
  }

  /** Whether every failure is a `ConnectionError`: the message goes back to its queue. */
  get transient(): boolean {
    return this.failures.every((error) => ConnectionError.isInstance(error));
  }

  /**
   * Runs `publish`, again after a backoff while it fails with a `ConnectionError`, up to the
   * configured attempts (fewer once the worker stops).
   */
  async retrying(publish: () => Promise<void>, what: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await publish();
      } catch (error) {
        if (!ConnectionError.isInstance(error) || attempt >= this.attempts || this.signal.aborted)
          throw error;
        const delay = computeBackoff(attempt - 1, {
          factor: this.minBackoff,
          maxBackoff: this.maxBackoff,
        })[1];
        this.logger.warn(
          `Could not enqueue ${what} (required by message ${this.messageId}), attempt ${attempt} of ${this.attempts}; retrying in ${delay} ms: ${(error as Error).message}`,
        );
        await sleep(delay, this.signal);
      }
    }
  }
}

/**
 * The settlement of the message whose after-process hooks run in this async context, if any.
 * @internal
 */
export function currentSettlement(): Settlement | undefined {
  return executionStore.getStore()?.settlement;
}

/**
 * Makes the ack of the message being processed wait for `work`. Call it from an
 * `afterProcessMessage` or `afterSkipMessage` hook (elsewhere it does nothing) to do slow work
 * off the concurrency slot while keeping "work, then ack": the slot is freed when the hooks
 * return, the ack waits. With `required` (the default), a rejection of `work` keeps the message
 * from being acked: it is requeued when the error is a `ConnectionError`, else dead-lettered with
 * the error as its exception. Enqueues made from those hooks (`broker.enqueue`, `actor.send`) are
 * held this way automatically.
 * @returns `work`
 */
export function holdAck<T>(work: Promise<T>, options: { required?: boolean } = {}): Promise<T> {
  currentSettlement()?.hold(work, options.required ?? true);
  return work;
}
