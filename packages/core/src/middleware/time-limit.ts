import type { Broker } from "../broker.js";
import type { MessageProxy } from "../consumer.js";
import { InvalidOptionError, TimeLimitExceeded } from "../errors.js";
import { Deadlines } from "../deadlines.js";
import { showValue } from "../option-validation.js";
import { Middleware } from "./middleware.js";
import { optionOr } from "./option-lookup.js";

/**
 * Interrupts messages that run past their time limit (default 600 000 ms): their signal aborts with
 * `TimeLimitExceeded` and the worker fails them at the deadline, even if the actor ignores the
 * signal. A failure like any other: retried by default. Actor and message option: `timeLimit`.
 *
 * One timer serves every running message, armed for the earliest deadline (or an earlier one left
 * from a finished message: it then re-arms for the rest). Code that blocks the
 * event loop cannot be interrupted in-process; the `dq` supervisor replaces such a process.
 */
export class TimeLimit extends Middleware {
  readonly timeLimit: number;
  /** Accepted for Dramatiq compatibility; deadlines here are exact, not polled. */
  readonly interval: number;
  /** The running messages' deadlines, on one unref'd timer that the next message reuses. */
  private readonly deadlines = new Deadlines<MessageProxy>(
    (message) => this.interrupt(message),
    true,
  );

  constructor(options: { timeLimit?: number; interval?: number } = {}) {
    super();
    this.timeLimit = options.timeLimit ?? 600_000;
    this.interval = options.interval ?? 1000;
    if (typeof this.timeLimit !== "number" || !(this.timeLimit > 0)) {
      throw new InvalidOptionError(
        `TimeLimit: invalid option timeLimit = ${showValue(options.timeLimit)}: expected a number of ms > 0, or Infinity for no limit`,
        {
          option: "timeLimit",
          value: options.timeLimit,
          expected: "a number of ms > 0, or Infinity for no limit",
        },
      );
    }
    if (typeof this.interval !== "number" || !(this.interval > 0)) {
      throw new InvalidOptionError(
        `TimeLimit: invalid option interval = ${showValue(options.interval)}: expected a number of ms > 0`,
        { option: "interval", value: options.interval, expected: "a number of ms > 0" },
      );
    }
  }

  override get actorOptions(): ReadonlySet<string> {
    return new Set(["timeLimit"]);
  }

  override beforeProcessMessage(broker: Broker, message: MessageProxy): void {
    const limit = optionOr(broker, message, "timeLimit", this.timeLimit);
    if (!Number.isFinite(limit)) return;
    this.deadlines.set(message, limit);
  }

  override afterProcessMessage(_broker: Broker, message: MessageProxy): void {
    this.deadlines.delete(message);
  }

  override afterSkipMessage(broker: Broker, message: MessageProxy): void {
    this.afterProcessMessage(broker, message);
  }

  private interrupt(message: MessageProxy): void {
    message.interrupt(
      new TimeLimitExceeded(
        `time limit exceeded while processing message ${message.messageId} (${message.actorName})`,
      ),
    );
  }
}
