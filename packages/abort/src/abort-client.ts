import { inspect } from "node:util";
import { Group, InvalidOptionError, Message, Pipeline, getLogger, type Logger } from "@dq/core";
import { optionValidator } from "@dq/core/adapter";
import type { AbortBackend, AbortEvent } from "./abort-backend.js";
import type { AbortMode } from "./abort-error.js";

/** What can be aborted: a message id, a message, or every message of a group or pipeline. */
export type AbortTarget = string | Message | Group | Pipeline;

/** What `abort()` takes. */
export interface AbortOptions {
  /** `cancel` skips the message if it has not started; `abort` (the default) also interrupts it while it runs. */
  mode?: AbortMode;
  /** `abort` mode: how long, in ms, the worker waits for an actor that ignores its signal (default 0). */
  abortTimeout?: number;
  /**
   * How long the request is kept for a message that has not started, in ms (default: the
   * client's `abortTtl`, 90 000). A delayed message's request is kept until it is due, plus this.
   */
  abortTtl?: number;
  /**
   * Wait up to this many ms for a worker to take the request (default 0: do not wait). A request
   * nobody took is reported (`claimed: false`) and logged: no worker runs the message now, and a
   * pending one is cancelled when it starts, within its TTL.
   */
  waitFor?: number;
}

/** What `abort()` reports for one message. */
export interface AbortResult {
  readonly messageId: string;
  readonly mode: AbortMode;
  /** How long the request is kept, in ms. */
  readonly ttl: number;
  /** With `waitFor`: whether a worker took the request within that time. */
  readonly claimed?: boolean;
}

/** What `AbortClient` takes. */
export interface AbortClientOptions {
  /** The default TTL of a request, in ms (default 90 000, dramatiq-abort's). */
  abortTtl?: number;
  /** Where unclaimed requests are logged (default `dq.abort`). */
  logger?: Logger;
}

const wholeMs = (value: unknown) =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
const CHECKS = {
  mode: optionValidator('"cancel" or "abort"', (value) => value === "cancel" || value === "abort"),
  abortTimeout: optionValidator("an integer number of ms >= 0", wholeMs),
  abortTtl: optionValidator(
    "an integer number of ms >= 1",
    (v) => wholeMs(v) && (v as number) >= 1,
  ),
  waitFor: optionValidator("an integer number of ms >= 0", wholeMs),
};

/** @throws InvalidOptionError naming the first bad option of `abort()` and showing its value */
export function checkAbortOptions(options: Readonly<Record<string, unknown>>, where: string): void {
  for (const [name, check] of Object.entries(CHECKS)) {
    const value = options[name];
    if (value !== undefined && !check.check(value))
      throw new InvalidOptionError(
        `${where}: invalid option ${name} = ${inspect(value)}: expected ${check.expected}`,
        { option: name, value, expected: check.expected },
      );
  }
}

/** The messages of a target, with their due time when known. */
function messagesOf(target: AbortTarget, out: { id: string; eta?: number }[] = []) {
  if (typeof target === "string") out.push({ id: target });
  else if (target instanceof Pipeline)
    for (const message of target.messages) messagesOf(message, out);
  else if (target instanceof Group) for (const child of target.children) messagesOf(child, out);
  else if (target instanceof Message) {
    const eta = target.options.eta;
    out.push({ id: target.messageId, eta: typeof eta === "number" ? eta : undefined });
  } else
    throw new InvalidOptionError(
      `abort(): expected a message id, a Message, a Group or a Pipeline, got ${inspect(target)}`,
    );
  return out;
}

/**
 * Sends abort requests through a backend. `abort(messageId, { mode })` satisfies the dashboard's
 * `abort` hook.
 * @example await new AbortClient(new RedisAbortBackend()).abort(message.messageId, { mode: "cancel" })
 */
export class AbortClient {
  readonly backend: AbortBackend;
  readonly abortTtl: number;
  private readonly logger: Logger;

  /** @throws InvalidOptionError for an `abortTtl` that is not an integer >= 1 */
  constructor(backend: AbortBackend, options: AbortClientOptions = {}) {
    checkAbortOptions({ abortTtl: options.abortTtl }, "AbortClient");
    this.backend = backend;
    this.abortTtl = options.abortTtl ?? 90_000;
    this.logger = options.logger ?? getLogger("dq.abort");
  }

  /**
   * Cancels (mode `cancel`) or aborts (mode `abort`, the default) a message, or every message of a
   * group or pipeline. Writes, per message, dramatiq-abort's cancel event and in `abort` mode its
   * abort event; a message with a known due time keeps its request until then plus `abortTtl`.
   * @returns one result per message (one for a message or an id)
   * @throws InvalidOptionError for a bad option
   * @throws ConnectionError when the backend cannot be reached
   */
  abort(target: string | Message, options?: AbortOptions): Promise<AbortResult>;
  abort(target: Group | Pipeline, options?: AbortOptions): Promise<AbortResult[]>;
  abort(target: AbortTarget, options?: AbortOptions): Promise<AbortResult | AbortResult[]>;
  async abort(
    target: AbortTarget,
    options: AbortOptions = {},
  ): Promise<AbortResult | AbortResult[]> {
    checkAbortOptions(options as Record<string, unknown>, "abort()");
    const results = await Promise.all(
      messagesOf(target).map((message) => this.abortOne(message.id, message.eta, options)),
    );
    return typeof target === "string" || target instanceof Message ? results[0]! : results;
  }

  private async abortOne(
    messageId: string,
    knownEta: number | undefined,
    options: AbortOptions,
  ): Promise<AbortResult> {
    const mode = options.mode ?? "abort";
    const abortTtl = options.abortTtl ?? this.abortTtl;
    const eta = knownEta ?? (await this.backend.etaOf(messageId));
    // dramatiq-abort's TTL drops the request of a message due later: keep it until it is due.
    const ttl =
      eta === null ? abortTtl : Math.max(abortTtl, Math.ceil(eta - Date.now()) + abortTtl);
    const events: AbortEvent[] = [{ key: `cancel:${messageId}`, params: {} }];
    if (mode === "abort")
      events.push({
        key: `abort:${messageId}`,
        params: { abort_timeout: options.abortTimeout ?? 0 },
      });
    await this.backend.notify(events, ttl);
    if (!options.waitFor) return { messageId, mode, ttl };
    const claimed = await this.waitForClaim(events, options.waitFor);
    if (!claimed)
      this.logger.info(
        `No worker took the ${mode} request of message ${messageId} within ${options.waitFor} ms: no worker runs it now${
          ttl > 0 ? `; it is kept ${ttl} ms for a message that has not started` : ""
        }.`,
      );
    return { messageId, mode, ttl, claimed };
  }

  /** Whether a worker took one of the events (a cancel when the message started, an abort while it ran). */
  private async waitForClaim(events: readonly AbortEvent[], waitFor: number): Promise<boolean> {
    const deadline = Date.now() + waitFor;
    for (;;) {
      const pending = await Promise.all(events.map((event) => this.backend.pending(event.key)));
      if (pending.some((present) => !present)) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, left)));
    }
  }
}
