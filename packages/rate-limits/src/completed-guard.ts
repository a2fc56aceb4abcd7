import {
  InvalidOptionError,
  Middleware,
  SkipMessage,
  type Broker,
  type MessageProxy,
  type ProcessOutcome,
} from "@dq/core";
import { isDelayQueueName, type RateLimiterBackend } from "@dq/core/adapter";
import { wholeNumber } from "./validation.js";

/** Options of `CompletedGuard`. */
export interface CompletedGuardOptions {
  /** How long a completed message id is remembered, in ms (default 86 400 000: one day). */
  ttl?: number;
  /** Prefix of the backend keys (default `"dq-completed:"`). */
  prefix?: string;
}

/**
 * An opt-in consumer-side guard against a message delivered again after it completed (Dramatiq
 * #431: a delayed message can be delivered twice). When a message succeeds, or is dead-lettered,
 * its id is recorded in the backend for `ttl` ms; a delivery of a recorded id is acked and skipped
 * without running the actor. A retry (same id, not yet completed) is not affected.
 *
 * It guards against redelivery after completion, not against two copies running at the same
 * moment (use `unique` with `until: "finished"` for that).
 */
export class CompletedGuard extends Middleware {
  readonly backend: RateLimiterBackend;
  readonly ttl: number;
  readonly prefix: string;

  /** @throws InvalidOptionError for a `ttl` that is not a positive integer or a prefix that is not a string */
  constructor(backend: RateLimiterBackend, options: CompletedGuardOptions = {}) {
    super();
    const { ttl = 86_400_000, prefix = "dq-completed:", ...rest } = options;
    const unknown = Object.keys(rest);
    if (unknown.length > 0)
      throw new InvalidOptionError(
        `CompletedGuard: unknown option ${JSON.stringify(unknown[0])}; known: ttl, prefix`,
      );
    if (typeof prefix !== "string")
      throw new InvalidOptionError(
        `CompletedGuard: prefix must be a string, got ${String(prefix)}`,
      );
    this.backend = backend;
    this.ttl = wholeNumber("CompletedGuard", "ttl", ttl);
    this.prefix = prefix;
  }

  private keyOf(proxy: MessageProxy): string {
    return `${this.prefix}${proxy.messageId}`;
  }

  override async beforeProcessMessage(broker: Broker, proxy: MessageProxy): Promise<void> {
    if ((await this.backend.getValue(this.keyOf(proxy))) === undefined) return;
    broker.logger.warn(
      `Skipping message ${proxy.messageId} (${proxy.actorName}): it already completed.`,
    );
    throw new SkipMessage(`message ${proxy.messageId} already completed`);
  }

  override async afterProcessMessage(
    _broker: Broker,
    proxy: MessageProxy,
    { exception }: ProcessOutcome,
  ): Promise<void> {
    if (exception === undefined && !proxy.failed) await this.remember(proxy);
  }

  override async afterNack(_broker: Broker, proxy: MessageProxy): Promise<void> {
    if (!proxy.undecodable && !isDelayQueueName(proxy.queueName)) await this.remember(proxy);
  }

  private async remember(proxy: MessageProxy): Promise<void> {
    await this.backend.setValue(this.keyOf(proxy), String(Date.now()), this.ttl);
  }
}
