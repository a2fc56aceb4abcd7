import type { Actor } from "../actor.js";
import type { Broker } from "../broker.js";
import type { MessageProxy } from "../consumer.js";
import type { Message } from "../message.js";
import type { OptionValidator } from "../option-validation.js";
import type { Worker } from "../worker.js";

/** A hook may do its work synchronously or return a Promise, which the bus awaits. */
export type Awaitable<T = void> = T | Promise<T> | Promise<unknown>;

/** What `afterProcessMessage` is told: the actor's result, or the error it failed with. */
export interface ProcessOutcome {
  result?: unknown;
  exception?: unknown;
}

/**
 * A function the `dq` command runs in a supervised process of its own, once per run (Dramatiq's
 * `forks`): `module` is an absolute path or URL, `exportName` the function it exports.
 */
export interface ForkSpec {
  module: string;
  exportName: string;
}

/** Every hook of the middleware bus, with its arguments. */
export type MiddlewareHooks = Required<Pick<Middleware, HookName>>;

/** The name of a hook. */
export type HookName =
  | "beforeAck"
  | "afterAck"
  | "beforeNack"
  | "afterNack"
  | "beforeDeclareActor"
  | "afterDeclareActor"
  | "beforeDeclareQueue"
  | "afterDeclareQueue"
  | "afterDeclareDelayQueue"
  | "beforeEnqueue"
  | "afterEnqueue"
  | "beforeDelayMessage"
  | "beforeProcessMessage"
  | "afterProcessMessage"
  | "afterSkipMessage"
  | "afterProcessBoot"
  | "beforeWorkerBoot"
  | "afterWorkerBoot"
  | "beforeWorkerShutdown"
  | "afterWorkerShutdown"
  | "afterConsumerThreadBoot"
  | "beforeConsumerThreadShutdown"
  | "afterWorkerThreadBoot"
  | "beforeWorkerThreadShutdown";

/** Names of the signals with a `before*` hook (`"ack"` → `beforeAck`). */
export type BeforeSignal = {
  [K in HookName]: K extends `before${infer S}` ? Uncapitalize<S> : never;
}[HookName];
/** Names of the signals with an `after*` hook (`"processMessage"` → `afterProcessMessage`). */
export type AfterSignal = {
  [K in HookName]: K extends `after${infer S}` ? Uncapitalize<S> : never;
}[HookName];

/** The arguments of hook `K`. */
export type HookArgs<K extends HookName> = Parameters<MiddlewareHooks[K]>;

/** The arguments of hook `K` after the broker (what `emitBefore`/`emitAfter` take). */
export type HookRest<K extends HookName> =
  HookArgs<K> extends [unknown, ...infer Rest] ? Rest : never;

/**
 * Base class of middleware. Override any hook of `MiddlewareHooks`; `before*` hooks run in the
 * broker's middleware order, `after*` hooks in reverse. A hook that throws is logged and
 * swallowed, except `MiddlewareError`s (such as `SkipMessage`) from `before*` hooks.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export abstract class Middleware {
  /** The actor and message options this middleware reads. */
  get actorOptions(): ReadonlySet<string> {
    return new Set();
  }

  /**
   * Validators of the option values this middleware reads, by camelCase option name (build them
   * with `optionValidator(expected, zodSchemaOrPredicate)`). Each value is checked where it is
   * given: at actor declaration, in `messageWithOptions`/`sendWithOptions`, and when a worker
   * receives a message, which a bad value dead-letters with the reason. A name with a validator is
   * a known message option even when it is not an actor option. Core's own options have theirs.
   */
  get optionValidators(): Readonly<Record<string, OptionValidator>> {
    return {};
  }

  /** Functions the `dq` command runs as extra supervised processes. */
  get forks(): readonly ForkSpec[] {
    return [];
  }
}

// The hooks are optional methods of every middleware.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Middleware {
  beforeAck?(broker: Broker, message: MessageProxy): Awaitable;
  afterAck?(broker: Broker, message: MessageProxy): Awaitable;
  beforeNack?(broker: Broker, message: MessageProxy): Awaitable;
  afterNack?(broker: Broker, message: MessageProxy): Awaitable;
  beforeDeclareActor?(broker: Broker, actor: Actor): Awaitable;
  afterDeclareActor?(broker: Broker, actor: Actor): Awaitable;
  beforeDeclareQueue?(broker: Broker, queueName: string): Awaitable;
  afterDeclareQueue?(broker: Broker, queueName: string): Awaitable;
  afterDeclareDelayQueue?(broker: Broker, queueName: string): Awaitable;
  beforeEnqueue?(broker: Broker, message: Message, delay: number | undefined): Awaitable;
  afterEnqueue?(broker: Broker, message: Message, delay: number | undefined): Awaitable;
  beforeDelayMessage?(broker: Broker, message: MessageProxy): Awaitable;
  beforeProcessMessage?(broker: Broker, message: MessageProxy): Awaitable;
  afterProcessMessage?(broker: Broker, message: MessageProxy, outcome: ProcessOutcome): Awaitable;
  afterSkipMessage?(broker: Broker, message: MessageProxy): Awaitable;
  /**
   * Wraps the processing of one message (its before/after process hooks and its actor), for work
   * that must enclose it, such as making a tracing context current across the actor's async
   * execution. Call `next()` exactly once and return (or await) what it returns. Wrappers nest in
   * middleware order, the first middleware outermost. One that throws without calling `next` is
   * logged and the message runs anyway.
   */
  aroundProcessMessage?(
    broker: Broker,
    message: MessageProxy,
    next: () => Promise<void>,
  ): Promise<void>;
  afterProcessBoot?(broker: Broker): Awaitable;
  beforeWorkerBoot?(broker: Broker, worker: Worker): Awaitable;
  afterWorkerBoot?(broker: Broker, worker: Worker): Awaitable;
  beforeWorkerShutdown?(broker: Broker, worker: Worker): Awaitable;
  afterWorkerShutdown?(broker: Broker, worker: Worker): Awaitable;
  afterConsumerThreadBoot?(broker: Broker, queueName: string): Awaitable;
  beforeConsumerThreadShutdown?(broker: Broker, queueName: string): Awaitable;
  afterWorkerThreadBoot?(broker: Broker, worker: Worker): Awaitable;
  beforeWorkerThreadShutdown?(broker: Broker, worker: Worker): Awaitable;
}
