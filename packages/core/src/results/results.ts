import type { Broker } from "../broker.js";
import type { MessageProxy } from "../consumer.js";
import { computeBackoff, currentClock, sleep } from "../clock.js";
import { ConnectionError, Interrupt, InvalidOptionError } from "../errors.js";
import { Middleware, type ProcessOutcome } from "../middleware/middleware.js";
import { findActor, optionExplicit } from "../middleware/option-lookup.js";
import { holdAck } from "../settlement.js";
import type { ResultBackend } from "./result-backend.js";

/** What `Results` takes. */
export interface ResultsOptions {
  /** Where results go. Required. */
  backend: ResultBackend;
  /** Store results for every actor unless an actor or message says otherwise (default false). */
  storeResults?: boolean;
  /** How long results are kept, in ms (default 600 000). */
  resultTtl?: number;
  /** Attempts to store one result while the backend is unreachable, the first included (default 6). */
  storeAttempts?: number;
  /** Backoff between attempts: base in ms, doubled per attempt with jitter (default 200). */
  storeMinBackoff?: number;
  /** Backoff cap in ms (default 5000). */
  storeMaxBackoff?: number;
  /** An attempt that has not finished after this many ms counts as failed (default 5000). */
  storeTimeout?: number;
}

/**
 * Stores actor results (and, once retries are exhausted, failures) in a result backend.
 * Actor and message options: `storeResults`, `resultTtl`.
 *
 * A store runs off the message's concurrency slot (other messages keep running while the backend
 * is slow) but before its ack, as in Dramatiq. One that fails with a `ConnectionError` or takes
 * longer than `storeTimeout` is tried again with backoff, up to `storeAttempts`; a result that
 * still cannot be stored is logged at ERROR with its message id and counted in `failedStores`,
 * and the message is acked all the same (its actor is not run again for its result).
 */
export class Results extends Middleware {
  readonly backend: ResultBackend;
  readonly storeResults: boolean;
  readonly resultTtl: number;
  readonly storeAttempts: number;
  readonly storeMinBackoff: number;
  readonly storeMaxBackoff: number;
  readonly storeTimeout: number;
  private failed = 0;

  /** @throws InvalidOptionError without a backend, or for a store setting that is not an integer >= 1 */
  constructor(options: ResultsOptions) {
    super();
    if (!options?.backend) throw new InvalidOptionError("Results needs a `backend`");
    this.backend = options.backend;
    this.storeResults = options.storeResults ?? false;
    this.resultTtl = options.resultTtl ?? 600_000;
    this.storeAttempts = atLeastOne("storeAttempts", options.storeAttempts ?? 6);
    this.storeMinBackoff = atLeastOne("storeMinBackoff", options.storeMinBackoff ?? 200);
    this.storeMaxBackoff = atLeastOne("storeMaxBackoff", options.storeMaxBackoff ?? 5000);
    this.storeTimeout = atLeastOne("storeTimeout", options.storeTimeout ?? 5000);
  }

  /** Results (or failures) given up on since this middleware was created: each was logged at ERROR. */
  get failedStores(): number {
    return this.failed;
  }

  override get actorOptions(): ReadonlySet<string> {
    return new Set(["storeResults", "resultTtl"]);
  }

  private settings(broker: Broker, message: MessageProxy): [boolean, number] {
    if (!findActor(broker, message)) return [false, 0];
    return [
      optionExplicit(broker, message, "storeResults", this.storeResults),
      optionExplicit(broker, message, "resultTtl", this.resultTtl),
    ];
  }

  override afterProcessMessage(
    broker: Broker,
    message: MessageProxy,
    { result, exception }: ProcessOutcome,
  ): void {
    const [store, ttl] = this.settings(broker, message);
    if (store && exception === undefined) {
      // Not returned to the bus: the slot goes on to the next message, the ack waits for this.
      void holdAck(
        this.store(broker, message, "result", () =>
          this.backend.storeResult(message.message, result, ttl),
        ),
        { required: false },
      );
    } else if (store && Interrupt.isInstance(exception) && exception.final) {
      // A final interrupt (an abort) is acked, never nacked: its failure is stored now.
      void holdAck(
        this.store(broker, message, "failure", () =>
          this.backend.storeException(message.message, exception, ttl),
        ),
        { required: false },
      );
    } else if (!store && result !== undefined && result !== null && !message.options.pipeTarget) {
      broker.logger.warn(
        `Actor '${message.actorName}' returned a value that is not null, but you haven't set its \`storeResults\` option to \`true\` so the value has been discarded.`,
      );
    }
  }

  override afterSkipMessage(broker: Broker, message: MessageProxy): void {
    const [store, ttl] = this.settings(broker, message);
    if (store && !message.failed) {
      void holdAck(
        this.store(broker, message, "result", () =>
          this.backend.storeResult(message.message, null, ttl),
        ),
        { required: false },
      );
    }
  }

  override async afterNack(broker: Broker, message: MessageProxy): Promise<void> {
    const [store, ttl] = this.settings(broker, message);
    if (store && message.failed) {
      await this.store(broker, message, "failure", () =>
        this.backend.storeException(
          message.message,
          message.exception ?? new Error("unknown"),
          ttl,
        ),
      );
    }
  }

  /** Runs `write` with retries; never rejects: a store given up on is logged and counted. */
  private async store(
    broker: Broker,
    message: MessageProxy,
    what: string,
    write: () => Promise<void>,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await withTimeout(write(), this.storeTimeout);
      } catch (error) {
        const transient = ConnectionError.isInstance(error) || error === TIMED_OUT;
        if (!transient || attempt >= this.storeAttempts) {
          this.failed++;
          const why = error === TIMED_OUT ? `no answer within ${this.storeTimeout} ms` : error;
          broker.logger.error(
            `Could not store the ${what} of message ${message.messageId} (${message.actorName}) after ${attempt} attempt${attempt === 1 ? "" : "s"}; it is lost.`,
            why,
          );
          return;
        }
        const delay = computeBackoff(attempt - 1, {
          factor: this.storeMinBackoff,
          maxBackoff: this.storeMaxBackoff,
        })[1];
        broker.logger.warn(
          `Could not store the ${what} of message ${message.messageId} (attempt ${attempt} of ${this.storeAttempts}); retrying in ${delay} ms.`,
        );
        await sleep(delay);
      }
    }
  }
}

const TIMED_OUT = Symbol("timed out");

/** `work`, or a rejection with `TIMED_OUT` after `ms` (the work itself goes on). */
function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  const clock = currentClock();
  return new Promise((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(TIMED_OUT), ms);
    work.then(
      () => {
        clock.clearTimeout(timer);
        resolve();
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function atLeastOne(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidOptionError(`invalid ${name} ${String(value)}: expected an integer >= 1`);
  return value;
}
