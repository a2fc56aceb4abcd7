/**
 * The option types of actors and messages: what `actor(fn, options)`, `messageWithOptions` and
 * `sendWithOptions` accept, and the middleware options that packages extend by declaration merging.
 */
import type { Broker } from "./broker.js";
import type { LeadingArgs, TrailingArg } from "./composition-types.js";
import type { Logger } from "./logger.js";
import type { Message } from "./message.js";
import type { RetryWhen, Throws } from "./middleware/retries.js";
import type { ArgsSchema, SchemaInput } from "./standard-schema.js";

/** An actor given where an actor name is expected (`onSuccess: otherActor`). */
type ActorRef = string | { readonly actorName: string };

/**
 * The middleware options a message may carry (and an actor may set as its default): those of the
 * middleware that ship with `@dq/core`. Option types are exact, so a misspelt option does not
 * compile. A middleware package adds its own options by declaration merging:
 * ```ts
 * declare module "@dq/core" {
 *   interface MiddlewareMessageOptions {
 *     /** My middleware: ... *\/
 *     myOption?: number;
 *   }
 * }
 * ```
 * (and lists them in its `actorOptions`, which the run-time check reads). Options that cannot
 * travel in a message (functions) go in `MiddlewareActorOptions` instead.
 */
export interface MiddlewareMessageOptions {
  /** Retries: how many times to retry a failure (`null`: forever); default 20. */
  maxRetries?: number | null;
  /** Retries: the first backoff in ms; default 15 000. */
  minBackoff?: number;
  /** Retries: the largest backoff in ms; default 604 800 000 (7 days). */
  maxBackoff?: number;
  /** Retries: the actor sent `(messageData, { retries, max_retries })` when retries run out. */
  onRetryExhausted?: ActorRef;
  /** Callbacks: the actor sent `(messageData, result)` on success. */
  onSuccess?: ActorRef;
  /** Callbacks: the actor sent `(messageData, { type, message })` on failure. */
  onFailure?: ActorRef;
  /** AgeLimit: drop a message older than this many ms. */
  maxAge?: number;
  /** TimeLimit: fail a message running longer than this many ms; default 600 000. */
  timeLimit?: number;
  /** ShutdownNotifications: interrupt the running message on worker shutdown. */
  notifyShutdown?: boolean;
  /** Results: store the result (or failure) in the result backend. */
  storeResults?: boolean;
  /** Results: how long a stored result is kept, in ms; default 600 000. */
  resultTtl?: number;
  /** Pipelines: do not append the previous step's result to this message's arguments. */
  pipeIgnore?: boolean;
  /** RabbitMQ: the AMQP priority of the message. */
  brokerPriority?: number;
}

/**
 * Actor options of middleware: every message option, plus those that cannot travel in a message.
 * A middleware package adds actor-only options by merging into this interface (see
 * `MiddlewareMessageOptions`).
 */
export interface MiddlewareActorOptions extends MiddlewareMessageOptions {
  /** Retries: `(retries, error) => boolean` decides whether to retry, replacing `maxRetries`. */
  retryWhen?: RetryWhen;
  /** Retries: errors that dead-letter at once, without retries. */
  throws?: Throws;
}

/**
 * What `actor(fn, options)` takes: exactly these keys (a misspelt one does not compile). At run
 * time every middleware option must also be declared by a middleware of the broker.
 */
export interface ActorOptions<P extends unknown[] = unknown[]> extends ActorDeclarationOptions {
  /**
   * A schema of the argument tuple (zod 3.24+, zod 4 or any Standard Schema), checked on send and
   * again when a worker receives the message; `send` then takes the schema's input type.
   */
  schema?: ArgsSchema<P>;
}

/** The options of `actor(fn, options)` but `schema`. */
export interface ActorDeclarationOptions extends MiddlewareActorOptions {
  /** The actor's name (default: the function's name). Must be unique on the broker. */
  actorName?: string;
  /** The queue (default `"default"`), matching `[a-zA-Z_][a-zA-Z0-9._-]*`. */
  queueName?: string;
  /** In-memory work-queue priority within a worker: lower runs first (default 0). */
  priority?: number;
  /** The broker to declare on (default: the global broker). */
  broker?: Broker;
  /** The actor's logger (default `dq.<actorName>`). */
  logger?: Logger;
  /**
   * `"thread"`: a worker runs the actor in a pool of worker threads that import the actor's module,
   * so CPU-bound code does not block the worker, and a time limit or an interrupt terminates it.
   * Arguments and results cross by structured clone.
   */
  isolate?: "thread";
  /**
   * With `isolate`: the module the threads import to find the actor (`import.meta.url`); default
   * the file that called `actor()`.
   */
  module?: string | URL;
}

/** The fields of `messageWithOptions` / `sendWithOptions` besides `args`. */
export interface MessageOptionFields extends MiddlewareMessageOptions {
  /** Keyword arguments (for actors written in Python), passed as one trailing object. */
  kwargs?: Record<string, unknown>;
  /** Delay in ms: `sendWithOptions` enqueues after it; a pipeline runs its first step after it. */
  delay?: number;
}

/**
 * Message options accepted by `messageWithOptions` / `sendWithOptions`: exact keys, and `args`
 * required when the actor has required parameters.
 */
export type MessageWithOptions<P extends unknown[] = unknown[]> = ([] extends P
  ? { args?: P }
  : { args: P }) &
  MessageOptionFields;

/** `actor.message`: builds a message; `.partial` builds a pipeline step missing its last argument. */
export interface MessageBuilder<P extends unknown[], R> {
  /** @returns a message for these arguments, without sending it */
  (...args: P): Message<R>;
  /**
   * A pipeline step with its leading arguments only: the previous step's result becomes its last
   * argument (as Dramatiq's pipelines append it). An ordinary `Message` at run time; the schema,
   * if any, is checked when a worker receives it.
   * @example pipeline([fetchPrice.message("WIDGET"), applyDiscount.message.partial(15)])
   */
  partial(...args: LeadingArgs<P>): Message<R, TrailingArg<P>>;
}

/** The argument tuple of an actor: its schema's input type when it has one, else its function's. */
export type ActorArgs<F extends (...args: never[]) => unknown, S> = S extends ArgsSchema
  ? SchemaInput<S>
  : Parameters<F>;

/** The output of an argument schema (`unknown[]` without one). */
type SchemaOutput<S> = S extends ArgsSchema<infer Output> ? Output : unknown[];

/** The functions an actor with this schema may run: any, or those accepting the schema's output. */
export type ActorFunction<S> = S extends ArgsSchema
  ? (...args: SchemaOutput<S>) => unknown
  : (...args: never[]) => unknown;
