import { InvalidOptionError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { EnqueueRetryOptions } from "../settlement.js";
import type { IsolationOptions } from "../isolation/thread-pool.js";

export type { IsolationOptions };

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
  /** The worker threads of `isolate: "thread"` actors (as many as `concurrency`, made on demand). */
  isolation?: IsolationOptions;
  logger?: Logger;
}

/**
 * @returns `value` when it is an integer >= 1
 * @throws InvalidOptionError naming the option and showing the value otherwise
 */
export function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidOptionError(`invalid ${name} ${String(value)}: expected an integer >= 1`);
  return value;
}
