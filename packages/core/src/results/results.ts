import type { Broker } from "../broker.js";
import type { MessageProxy } from "../consumer.js";
import { InvalidOptionError } from "../errors.js";
import { Middleware, type ProcessOutcome } from "../middleware/middleware.js";
import { findActor, optionExplicit } from "../middleware/option-lookup.js";
import type { ResultBackend } from "./result-backend.js";

/** What `Results` takes. */
export interface ResultsOptions {
  /** Where results go. Required. */
  backend: ResultBackend;
  /** Store results for every actor unless an actor or message says otherwise (default false). */
  storeResults?: boolean;
  /** How long results are kept, in ms (default 600 000). */
  resultTtl?: number;
}

/**
 * Stores actor results (and, once retries are exhausted, failures) in a result backend.
 * Actor and message options: `storeResults`, `resultTtl`.
 */
export class Results extends Middleware {
  readonly backend: ResultBackend;
  readonly storeResults: boolean;
  readonly resultTtl: number;

  constructor(options: ResultsOptions) {
    super();
    if (!options?.backend) throw new InvalidOptionError("Results needs a `backend`");
    this.backend = options.backend;
    this.storeResults = options.storeResults ?? false;
    this.resultTtl = options.resultTtl ?? 600_000;
  }

  override get actorOptions(): ReadonlySet<string> {
    return new Set(["storeResults", "resultTtl"]);
  }

  private settings(broker: Broker, message: MessageProxy): [boolean, number] {
    if (!findActor(broker, message)) return [false, 0];
    return [optionExplicit(broker, message, "storeResults", this.storeResults), optionExplicit(broker, message, "resultTtl", this.resultTtl)];
  }

  override afterProcessMessage(broker: Broker, message: MessageProxy, { result, exception }: ProcessOutcome): void | Promise<void> {
    const [store, ttl] = this.settings(broker, message);
    if (store && exception === undefined) {
      return this.backend.storeResult(message.message, result, ttl);
    } else if (!store && result !== undefined && result !== null && !message.options.pipeTarget) {
      broker.logger.warn(`Actor '${message.actorName}' returned a value that is not null, but you haven't set its \`storeResults\` option to \`true\` so the value has been discarded.`);
    }
  }

  override async afterSkipMessage(broker: Broker, message: MessageProxy): Promise<void> {
    const [store, ttl] = this.settings(broker, message);
    if (store && !message.failed) await this.backend.storeResult(message.message, null, ttl);
  }

  override async afterNack(broker: Broker, message: MessageProxy): Promise<void> {
    const [store, ttl] = this.settings(broker, message);
    if (store && message.failed) await this.backend.storeException(message.message, message.exception ?? new Error("unknown"), ttl);
  }
}
