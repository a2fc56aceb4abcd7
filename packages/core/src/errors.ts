/**
 * The error hierarchy of dq, mirroring Python Dramatiq's. Every class sets `name`, passes `cause`,
 * and carries a `Symbol.for` marker so that `isInstance` still works when two copies of
 * `@dq/core` are loaded in one process.
 */

const MARK = Symbol.for("dq.error");

type ErrorClass = abstract new (...args: never[]) => Error;

/** The root of every error dq raises. */
export class DramatiqError extends Error {
  /** Marker set by every dq error: the chain of class names this error belongs to. */
  readonly [MARK]: readonly string[];

  constructor(message = "", options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    const chain: string[] = [];
    for (
      let proto: object | null = new.target.prototype;
      proto && proto !== Error.prototype;
      proto = Object.getPrototypeOf(proto) as object | null
    ) {
      chain.push((proto.constructor as { name: string }).name);
    }
    this[MARK] = chain;
  }

  /**
   * `instanceof` that also recognises errors created by another copy of this package.
   * @param error - any value
   * @returns whether `error` is an instance of this class (by class name along the chain)
   */
  static isInstance<T extends ErrorClass>(this: T, error: unknown): error is InstanceType<T> {
    if (error instanceof this) return true;
    const chain = (error as { [MARK]?: readonly string[] } | null)?.[MARK];
    return Array.isArray(chain) && chain.includes(this.name);
  }
}

/** Base class of broker errors. */
export class BrokerError extends DramatiqError {}

/** A message names an actor this broker does not know. */
export class ActorNotFound extends BrokerError {}

/** An operation names a queue that was never declared. */
export class QueueNotFound extends BrokerError {}

/** `broker.join()` ran out of time before the queue drained. */
export class QueueJoinTimeout extends BrokerError {}

/** The broker could not reach its server, or lost it. */
export class ConnectionError extends BrokerError {}

/** An established connection to the server was closed. */
export class ConnectionClosed extends ConnectionError {}

/** A connection to the server could not be established. */
export class ConnectionFailed extends ConnectionError {}

/** Bytes or data that are not a valid dq/Dramatiq message. */
export class DecodeError extends DramatiqError {
  /** The raw data that failed to decode, when known. */
  readonly data: unknown;
  constructor(message: string, data?: unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.data = data;
  }
}

/** A rate limiter could not be acquired and `raiseOnFailure` was set. */
export class RateLimitExceeded extends DramatiqError {}

/**
 * Thrown by an actor to ask for a retry; `delay` (ms) overrides the computed backoff.
 * Retries count against `maxRetries` like any other failure, but are not logged as errors.
 */
export class Retry extends DramatiqError {
  /** Milliseconds to wait before the retry, or undefined for the normal backoff. */
  readonly delay: number | undefined;
  constructor(options: { message?: string; delay?: number } = {}) {
    super(options.message ?? "");
    this.delay = options.delay;
  }
}

/** Base class of result errors. */
export class ResultError extends DramatiqError {}

/** The result is not (yet) stored. */
export class ResultMissing extends ResultError {}

/** Waiting for a result ran past its timeout. */
export class ResultTimeout extends ResultError {}

/** The actor failed; the stored failure carries its error type and message. */
export class ResultFailure extends ResultError {
  /** The class name of the error the actor raised. */
  readonly origExcType: string;
  /** The message of the error the actor raised. */
  readonly origExcMsg: string;
  constructor(message: string, origExcType: string, origExcMsg: string) {
    super(message);
    this.origExcType = origExcType;
    this.origExcMsg = origExcMsg;
  }
}

/** Base class of errors that middleware raise to change control flow. */
export class MiddlewareError extends DramatiqError {}

/** Raised in `beforeProcessMessage` to skip a message (acked unless it was failed). */
export class SkipMessage extends MiddlewareError {}

/**
 * Raised in `beforeEnqueue` to leave a message out: it is not published, `afterEnqueue` does not
 * run for it, and `enqueue` (so `send`) resolves with the message as if it had been sent. The
 * middleware that raised it says how to tell (e.g. `@dq/rate-limits`' `isDuplicate`).
 */
export class SkipEnqueue extends MiddlewareError {}

/** Base class of interrupts: the running message was aborted from outside. */
export class Interrupt extends DramatiqError {
  /**
   * Whether the failure is final: `Retries` does not retry it, the message is acked, and `Results`
   * stores the failure at once. False for time limits and shutdowns; an abort (`@dq/abort`) is final.
   */
  get final(): boolean {
    return false;
  }
}

/** The message ran longer than its time limit. */
export class TimeLimitExceeded extends Interrupt {}

/** The worker is shutting down and the actor asked to be notified. */
export class Shutdown extends Interrupt {}

/**
 * An actor declared with `isolate: "thread"` cannot run in a worker thread: its module cannot be
 * determined (declared inline, in a REPL or `eval`) or loaded there, or the module does not declare
 * the actor when a thread imports it.
 */
export class IsolationError extends DramatiqError {}

/**
 * The worker thread running an isolated actor died: it ran out of memory (`resourceLimits`),
 * called `process.exit()`, or threw outside the actor's invocation. Only its message fails.
 */
export class ThreadCrashed extends DramatiqError {}

/**
 * An option (of an actor, a message, a middleware or an adapter) is invalid: a value of the wrong
 * type or range, or a name no middleware declares. The message names the option, shows the value
 * and says what is expected (for a misspelt name, the closest known one).
 */
export class InvalidOptionError extends DramatiqError {
  /** The option's name, when the error is about one option. */
  readonly option: string | undefined;
  /** The value given, when the error is about a value. */
  readonly value: unknown;
  /** What a valid value is, in words. */
  readonly expected: string | undefined;
  constructor(
    message = "",
    options: { cause?: unknown; option?: string; value?: unknown; expected?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.option = options.option;
    this.value = options.value;
    this.expected = options.expected;
  }
}

/**
 * A value the encoder cannot write (for JSON: `undefined`, a function, a symbol, a cycle). `path`
 * says where it is in the encoded data (`args[1]`, `kwargs.x.y`); nothing was sent.
 */
export class EncodeError extends DramatiqError {
  /** Where the value is: `args[1]`, `kwargs.user.id`, `options.on_success`. */
  readonly path: string;
  /** The value that cannot be encoded. */
  readonly value: unknown;
  constructor(message: string, path: string, value: unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
    this.value = value;
  }
}

/** Actor arguments that do not match the actor's `schema`. */
export class InvalidArgumentsError extends DramatiqError {}
