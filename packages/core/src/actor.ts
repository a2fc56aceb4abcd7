import type { Broker, EnqueueOptions } from "./broker.js";
import type {
  ActorArgs,
  ActorDeclarationOptions,
  ActorFunction,
  ActorOptions,
  MessageBuilder,
  MessageOptionFields,
  MessageWithOptions,
} from "./actor-options.js";
import type { LeadingArgs, TrailingArg } from "./composition-types.js";
import { InvalidArgumentsError, InvalidOptionError } from "./errors.js";
import { currentGlobalBroker } from "./global-registry.js";
import { actorIsolation, type ActorIsolation } from "./isolation/declaration.js";
import { inIsolationThread, registerThreadActor } from "./isolation/thread-registry.js";
import { getLogger, type Logger } from "./logger.js";
import { Message } from "./message.js";
import { ACTOR_ONLY_OPTIONS, showValue, unknownOptionsError } from "./option-validation.js";
import { toApiKey } from "./options.js";
import { validateQueueName } from "./queue-names.js";
import { formatIssuePath, isStandardSchema, type ArgsSchema } from "./standard-schema.js";

export type {
  ActorArgs,
  ActorDeclarationOptions,
  ActorOptions,
  MessageBuilder,
  MessageOptionFields,
  MessageWithOptions,
  MiddlewareActorOptions,
  MiddlewareMessageOptions,
} from "./actor-options.js";

const RESERVED = new Set([
  "actorName",
  "queueName",
  "priority",
  "broker",
  "schema",
  "logger",
  "isolate",
  "module",
]);
const ACTOR_REFS = ["onSuccess", "onFailure", "onRetryExhausted"] as const;

function refName(value: unknown, key: string, where: string): unknown {
  if (value === undefined || value === null || typeof value === "string") return value;
  if (typeof value === "function" || typeof value === "object") {
    const name = (value as { actorName?: unknown }).actorName;
    if (typeof name === "string") return name;
  }
  throw new InvalidOptionError(
    `${where}: invalid option ${key} = ${showValue(value)}: expected an actor or an actor name`,
    { option: key, value, expected: "an actor or an actor name" },
  );
}

function normalizeRefs<T extends Record<string, unknown>>(options: T, where: string): T {
  let out = options;
  for (const key of ACTOR_REFS) {
    if (key in options && typeof options[key] !== "string") {
      if (out === options) out = { ...options };
      (out as Record<string, unknown>)[key] = refName(options[key], key, where);
    }
  }
  return out;
}

/** `args` must be an array and `kwargs` a plain object (JavaScript callers can pass anything). */
function checkArgsShape(args: unknown, kwargs: unknown, actorName: string): void {
  if (!Array.isArray(args)) {
    throw new InvalidArgumentsError(
      `message of actor ${actorName}: args must be an array of arguments, got ${showValue(args)}`,
    );
  }
  if (kwargs === null || typeof kwargs !== "object" || Array.isArray(kwargs)) {
    throw new InvalidArgumentsError(
      `message of actor ${actorName}: kwargs must be a plain object, got ${showValue(kwargs)}`,
    );
  }
}

/**
 * A function declared as an actor: callable (runs the function directly), and able to build and
 * send messages that a worker runs. `P` is the argument tuple, `R` the (awaited) result type.
 */

export interface Actor<P extends unknown[] = unknown[], R = unknown> {
  /** Runs the function directly, in this process. */
  (...args: P): R | Promise<R>;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Actor<P extends unknown[] = unknown[], R = unknown> {
  declare readonly actorName: string;
  declare readonly queueName: string;
  declare readonly priority: number;
  /** The actor's options (middleware options such as `maxRetries`). */
  declare readonly options: Readonly<Record<string, unknown>>;
  declare readonly broker: Broker;
  declare readonly fn: (...args: never[]) => unknown;
  declare readonly logger: Logger;
  declare readonly schema: ArgsSchema | undefined;
  /** Where a worker runs the actor: in worker threads importing `module`, or undefined (in-process). */
  declare readonly isolation: ActorIsolation | undefined;
  /** @returns a message for these arguments, without sending it; `.partial(...)` for a pipeline step */
  declare readonly message: MessageBuilder<P, R>;

  /**
   * Use `actor(fn, options)`.
   * @throws InvalidOptionError on a missing name, an invalid queue name or priority, or an option no middleware declares
   * @throws IsolationError when `isolate` is set and the actor's module cannot be determined or loaded in a thread
   */
  constructor(fn: (...args: never[]) => unknown, options: ActorOptions<P> = {}) {
    if (typeof fn !== "function")
      throw new InvalidOptionError(`actor() needs a function, got ${String(fn)}`);
    const actorName = options.actorName ?? fn.name;
    if (typeof actorName !== "string" || actorName === "") {
      throw new InvalidOptionError(
        "actor() needs a name: pass a named function or the `actorName` option",
      );
    }
    const queueName = validateQueueName(options.queueName ?? "default");
    const priority = options.priority ?? 0;
    if (!Number.isSafeInteger(priority)) {
      throw new InvalidOptionError(
        `actor ${actorName}: invalid option priority = ${showValue(priority)}: expected an integer`,
        { option: "priority", value: priority, expected: "an integer" },
      );
    }
    if (inIsolationThread) return threadActor(fn, actorName, queueName, priority, options);
    const isolation = actorIsolation(actorName, options.isolate, options.module);
    const broker = options.broker ?? currentGlobalBroker();
    if (options.schema !== undefined && !isStandardSchema(options.schema)) {
      throw new InvalidOptionError(
        `actor ${actorName}: option "schema" must be a Standard Schema (zod 3.24 or later, zod 4, valibot, arktype), ` +
          `got ${typeof (options.schema as { safeParse?: unknown }).safeParse === "function" ? "a zod schema older than 3.24 (upgrade zod)" : `a value of type ${typeof options.schema}`}`,
      );
    }
    const actorOptions: Record<string, unknown> = {};
    const unknown: string[] = [];
    for (const [key, value] of Object.entries(options)) {
      if (RESERVED.has(key) || value === undefined) continue;
      if (!broker.actorOptions.has(key)) unknown.push(key);
      actorOptions[key] = value;
    }
    if (unknown.length)
      throw unknownOptionsError(
        unknown,
        [...broker.actorOptions, ...RESERVED],
        `actor ${actorName}`,
        toApiKey,
      );
    const normalized = normalizeRefs(actorOptions, `actor ${actorName}`);
    broker.validateOptions(normalized, `actor ${actorName}`);
    const callable = function (this: unknown, ...args: P) {
      return (fn as (...a: P) => R | Promise<R>).apply(this, args);
    } as Actor<P, R>;
    Object.setPrototypeOf(callable, new.target.prototype);
    Object.defineProperties(callable, {
      actorName: { value: actorName, enumerable: true },
      queueName: { value: queueName, enumerable: true },
      priority: { value: priority, enumerable: true },
      options: { value: Object.freeze(normalized), enumerable: true },
      broker: { value: broker, enumerable: true },
      fn: { value: fn, enumerable: true },
      logger: { value: options.logger ?? getLogger(`dq.${actorName}`), enumerable: true },
      schema: { value: options.schema, enumerable: true },
      isolation: { value: isolation, enumerable: true },
      message: { value: messageBuilder(callable) },
    });
    broker.declareActor(callable as unknown as Actor);
    return callable;
  }

  /**
   * Checks arguments against the actor's schema.
   * @throws InvalidArgumentsError naming the actor and the failing path
   */
  validateArgs(args: readonly unknown[]): P {
    if (!this.schema) return args as P;
    const parsed = this.schema["~standard"].validate(args);
    if (parsed instanceof Promise) {
      parsed.catch(() => undefined);
      throw new InvalidOptionError(
        `actor ${this.actorName}: option "schema" validates asynchronously, but arguments are checked synchronously (drop the async refinements)`,
      );
    }
    if (!parsed.issues) return parsed.value as P;
    const problems = parsed.issues
      .map((issue) => `args${formatIssuePath(issue.path)}: ${issue.message}`)
      .join("; ");
    throw new InvalidArgumentsError(`invalid arguments for actor ${this.actorName}: ${problems}`, {
      cause: parsed.issues,
    });
  }

  /** @returns a message with these arguments and options, without sending it */
  messageWithOptions(options: MessageWithOptions<P>): Message<R> {
    // `?? {}` for JavaScript callers that pass nothing.
    const {
      args = [] as unknown as P,
      kwargs = {},
      ...rest
    } = (options as (MessageOptionFields & { args?: P }) | undefined) ?? {};
    checkArgsShape(args, kwargs, this.actorName);
    this.validateArgs(args);
    const messageOptions = normalizeRefs(
      rest as Record<string, unknown>,
      `message of actor ${this.actorName}`,
    );
    this.checkMessageOptions(messageOptions);
    return new Message<R>({
      queueName: this.queueName,
      actorName: this.actorName,
      args,
      kwargs,
      options: messageOptions,
    });
  }

  /**
   * Checks message options: each name must be known to the broker (`broker.messageOptions`) and
   * each value valid (`broker.optionValidators`).
   * @throws InvalidOptionError naming the option (and the closest known name for a typo)
   */
  private checkMessageOptions(options: Record<string, unknown>): void {
    let unknown: string[] | undefined;
    for (const key in options) {
      if (options[key] === undefined) continue;
      if (ACTOR_ONLY_OPTIONS.has(key)) {
        throw new InvalidOptionError(
          `message of actor ${this.actorName}: ${key} is an actor option; a message cannot carry ${showValue(options[key])}`,
          {
            option: key,
            value: options[key],
          },
        );
      }
      if (!this.broker.messageOptions.has(key)) (unknown ??= []).push(key);
    }
    if (unknown)
      throw unknownOptionsError(
        unknown,
        this.broker.messageOptions,
        `message of actor ${this.actorName}`,
        toApiKey,
      );
    this.broker.validateOptions(options, `message of actor ${this.actorName}`);
  }

  /** Sends a message with these arguments. @returns the enqueued message */
  send(...args: P): Promise<Message<R>> {
    return this.sendWithOptions({ args });
  }

  /** Sends a message with these arguments and options; `delay` in ms. @returns the enqueued message */
  sendWithOptions(options: MessageWithOptions<P> & EnqueueOptions): Promise<Message<R>> {
    const { delay, ...rest } =
      (options as (MessageWithOptions<P> & EnqueueOptions) | undefined) ?? {};
    try {
      return this.broker.enqueue(this.messageWithOptions(rest as MessageWithOptions<P>), { delay });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Runs the function with a message's arguments (kwargs become a trailing object). */
  invoke(args: readonly unknown[], kwargs: Record<string, unknown>): unknown {
    const fn = this.fn as (...a: unknown[]) => unknown;
    for (const _key in kwargs) return fn(...args, kwargs);
    return fn(...args);
  }

  toString(): string {
    return `Actor(${this.actorName})`;
  }
}

/**
 * An actor declared while its module is imported in an isolation thread: registered for the
 * thread to run, declared on no broker (the main thread did), and checked no further. Its broker
 * is looked up only if the actor's code uses it (to send another message).
 */
function threadActor<P extends unknown[], R>(
  fn: (...args: never[]) => unknown,
  actorName: string,
  queueName: string,
  priority: number,
  options: ActorOptions<P>,
): Actor<P, R> {
  const callable = function (this: unknown, ...args: P) {
    return (fn as (...a: P) => R | Promise<R>).apply(this, args);
  } as Actor<P, R>;
  Object.setPrototypeOf(callable, Actor.prototype);
  const { broker, logger, schema, isolate: _isolate, module: _module, ...rest } = options;
  Object.defineProperties(callable, {
    actorName: { value: actorName, enumerable: true },
    queueName: { value: queueName, enumerable: true },
    priority: { value: priority, enumerable: true },
    options: { value: Object.freeze(normalizeRefs(rest, `actor ${actorName}`)), enumerable: true },
    broker: { get: () => broker ?? currentGlobalBroker(), enumerable: true },
    fn: { value: fn, enumerable: true },
    logger: { value: logger ?? getLogger(`dq.${actorName}`), enumerable: true },
    schema: { value: schema, enumerable: true },
    isolation: { value: undefined, enumerable: true },
    message: { value: messageBuilder(callable) },
  });
  registerThreadActor(callable as unknown as Actor);
  return callable;
}

function messageBuilder<P extends unknown[], R>(target: Actor<P, R>): MessageBuilder<P, R> {
  const build = (...args: P): Message<R> => target.messageWithOptions({ args });
  const partial = (...args: LeadingArgs<P>): Message<R, TrailingArg<P>> =>
    new Message<R, TrailingArg<P>>({
      queueName: target.queueName,
      actorName: target.actorName,
      args,
      kwargs: {},
      options: {},
    });
  return Object.assign(build, { partial });
}

/**
 * Declares `fn` as an actor on the global broker (or `options.broker`). With a `schema`, `send`
 * takes the schema's input type and `fn` must accept its output (unannotated parameters are
 * typed from it).
 * @example const add = actor(function add(x: number, y: number) { return x + y; });
 */
export function actor<F extends (...args: never[]) => unknown>(
  fn: F,
): Actor<Parameters<F>, Awaited<ReturnType<F>>>;
export function actor<F extends ActorFunction<S>, S extends ArgsSchema | undefined = undefined>(
  fn: F,
  options: ActorDeclarationOptions & { schema?: S },
): Actor<ActorArgs<F, S>, Awaited<ReturnType<F>>>;
// Two signatures told apart by arity only, so an error in the options is reported on the option
// itself (an optional parameter's type would be a union with undefined, and the compiler would
// not say which option's type was expected).
export function actor(fn: (...args: never[]) => unknown, options: ActorOptions = {}): Actor {
  return new Actor(fn, options);
}
