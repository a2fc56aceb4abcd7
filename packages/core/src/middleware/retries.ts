import { inspect } from "node:util";
import type { Broker } from "../broker.js";
import { computeBackoff } from "../clock.js";
import type { MessageProxy } from "../consumer.js";
import { Interrupt, InvalidOptionError, Retry } from "../errors.js";
import { holdAck } from "../settlement.js";
import { Middleware, type ProcessOutcome } from "./middleware.js";
import { findActor, optionExplicit, optionOr } from "./option-lookup.js";

/** Decides whether to retry after a failure: `(retriesSoFar, error) => boolean`. */
export type RetryWhen = (retries: number, error: unknown) => boolean;

/** An error class, or a list of them, that dead-letters a message at once instead of retrying. */
export type Throws =
  | (abstract new (...args: never[]) => unknown)
  | readonly (abstract new (...args: never[]) => unknown)[];

/** What `Retries` takes. */
export interface RetriesOptions {
  /** Retries before dead-lettering (default 20; `null` retries forever). */
  maxRetries?: number | null;
  /** Backoff base in ms (default 15 000). */
  minBackoff?: number;
  /** Backoff cap in ms (default and maximum 604 800 000, 7 days). */
  maxBackoff?: number;
  /** Replaces `maxRetries`: retry while it returns true. */
  retryWhen?: RetryWhen;
  /** For tests: the random source of the backoff jitter. */
  random?: () => number;
}

const MAX_BACKOFF = 604_800_000;

function matchesThrows(throws: Throws, error: unknown): boolean {
  const classes = Array.isArray(throws) ? throws : [throws as Exclude<Throws, readonly unknown[]>];
  return classes.some(
    (errorClass) => typeof errorClass === "function" && error instanceof errorClass,
  );
}

/**
 * Retries failed messages with exponential backoff (Dramatiq's algorithm and option keys), then
 * dead-letters them. Actor options: `maxRetries`, `minBackoff`, `maxBackoff`, `retryWhen`,
 * `throws`, `onRetryExhausted`. A failed message is acked only once its retry is enqueued: while
 * the broker is unreachable the enqueue is retried with backoff (the worker's `enqueueRetry`),
 * then the message is requeued; a retry that cannot be enqueued at all (an invalid backoff or
 * delay, an argument that does not encode) dead-letters the message with that error.
 */
export class Retries extends Middleware {
  readonly maxRetries: number | null;
  readonly minBackoff: number;
  readonly maxBackoff: number;
  readonly retryWhen: RetryWhen | undefined;
  private readonly random: () => number;

  constructor(options: RetriesOptions = {}) {
    super();
    this.maxRetries = options.maxRetries === undefined ? 20 : options.maxRetries;
    // As in Dramatiq, a zero or missing constructor backoff means the default.
    this.minBackoff = options.minBackoff || 15_000;
    this.maxBackoff = options.maxBackoff || MAX_BACKOFF;
    this.retryWhen = options.retryWhen;
    this.random = options.random ?? Math.random;
    if (this.maxRetries !== null && !(Number.isInteger(this.maxRetries) && this.maxRetries >= 0)) {
      throw new InvalidOptionError(
        `invalid maxRetries ${String(options.maxRetries)}: expected an integer >= 0 or null`,
      );
    }
  }

  override get actorOptions(): ReadonlySet<string> {
    return new Set([
      "maxRetries",
      "minBackoff",
      "maxBackoff",
      "retryWhen",
      "throws",
      "onRetryExhausted",
    ]);
  }

  override afterProcessMessage(
    broker: Broker,
    message: MessageProxy,
    { exception }: ProcessOutcome,
  ): void | Promise<void> {
    if (exception === undefined) return;
    // A final interrupt (an abort) is not retried: the message is acked with its failure.
    if (Interrupt.isInstance(exception) && exception.final) return;
    // The message is acked only once its retry (or `onRetryExhausted` message) is enqueued.
    return holdAck(this.retry(broker, message, exception));
  }

  private async retry(broker: Broker, message: MessageProxy, exception: unknown): Promise<void> {
    const actor = findActor(broker, message);
    const throws = optionOr<Throws | undefined>(broker, message, "throws", undefined);
    if (throws && matchesThrows(throws, exception)) {
      broker.logger.info(
        `Aborting message ${message.messageId} (${message.actorName}): it raised ${describe(exception)}, listed in \`throws\`.`,
      );
      message.fail();
      return;
    }

    const options = message.options;
    const retries = typeof options.retries === "number" ? options.retries : 0;
    options.retries = retries + 1;
    options.traceback =
      exception instanceof Error
        ? (exception.stack ?? `${exception.name}: ${exception.message}`)
        : inspect(exception);
    options.requeueTimestamp = broker.clock.now();

    const maxRetries = optionExplicit<number | null>(
      broker,
      message,
      "maxRetries",
      this.maxRetries,
    );
    const retryWhen = (actor?.options.retryWhen as RetryWhen | undefined) ?? this.retryWhen;
    const exhausted = retryWhen
      ? !retryWhen(retries, exception)
      : maxRetries !== null && maxRetries !== undefined && retries >= maxRetries;
    if (exhausted) {
      broker.logger.warn(
        `Retries exceeded for message ${message.messageId} (${message.actorName}).`,
      );
      message.fail();
      const target = optionOr<string | undefined>(broker, message, "onRetryExhausted", undefined);
      if (target)
        await broker.getActor(target).send(message.asDict(), { retries, max_retries: maxRetries });
      return;
    }

    let delay: number;
    if (Retry.isInstance(exception) && exception.delay !== undefined && exception.delay !== null) {
      delay = exception.delay;
    } else {
      const minBackoff = optionExplicit(broker, message, "minBackoff", this.minBackoff);
      const maxBackoff = Math.min(
        optionExplicit(broker, message, "maxBackoff", this.maxBackoff),
        MAX_BACKOFF,
      );
      delay = computeBackoff(retries, { factor: minBackoff, maxBackoff, random: this.random })[1];
    }
    broker.logger.info(
      `Retrying message ${message.messageId} (${message.actorName}) in ${delay} milliseconds.`,
    );
    await broker.enqueue(message.message, { delay });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
