import type { Actor } from "./actor.js";
import { currentClock, withTimers, type TimerClock } from "./clock.js";
import type { Consumer, ConsumeOptions, MessageProxy } from "./consumer.js";
import { ActorNotFound, InvalidOptionError, SkipEnqueue } from "./errors.js";
import { getLogger, type Logger } from "./logger.js";
import type { Message } from "./message.js";
import type { AfterSignal, BeforeSignal, HookRest, Middleware } from "./middleware/middleware.js";
import {
  hookName,
  type BrokerCapabilities,
  type BrokerOptions,
  type DeclarationListener,
  type EnqueueOptions,
  type JoinOptions,
} from "./broker-options.js";
import { canonicalQueueName, delayQueueName, validateQueueName } from "./queue-names.js";
import type { ResultBackend } from "./results/result-backend.js";
import { defaultMiddleware } from "./middleware/defaults.js";
import {
  checkOptionValues,
  CORE_OPTION_VALIDATORS,
  MESSAGE_ONLY_OPTIONS,
  type OptionValidator,
} from "./option-validation.js";
import { Results } from "./results/results.js";
import { HookBus } from "./hook-bus.js";
import { DeclarationListeners } from "./declaration-listeners.js";
import { delayMessages } from "./delay-messages.js";
import { insertMiddleware, type MiddlewarePosition } from "./insert-middleware.js";
import { currentSettlement, type Settlement } from "./settlement.js";

export type {
  BrokerCapabilities,
  BrokerOptions,
  DeclarationListener,
  EnqueueOptions,
  JoinOptions,
} from "./broker-options.js";

/**
 * The broker contract: an actor registry, the middleware bus, and the I/O that each broker
 * implements (`publish`, `consume`, `flush`, `flushAll`, `join`, `close`).
 */
export abstract class Broker {
  /** Actors by name. */
  readonly actors = new Map<string, Actor>();
  /** Declared (canonical) queue names. */
  readonly queues = new Set<string>();
  /** Declared delay queue names. */
  readonly delayQueues = new Set<string>();
  /** The middleware, in order. */
  readonly middleware: Middleware[] = [];
  /** The union of every middleware's `actorOptions`. */
  readonly actorOptions = new Set<string>();
  /** The options a message may carry: `actorOptions`, those the broker and composition set, and any with a validator. */
  readonly messageOptions = new Set<string>(MESSAGE_ONLY_OPTIONS);
  /** Option value validators: core's, and those every middleware declares (`optionValidators`). */
  readonly optionValidators = new Map<string, OptionValidator>(
    Object.entries(CORE_OPTION_VALIDATORS),
  );
  readonly logger: Logger;
  /** The clock for delays, timestamps and the worker's timers. */
  readonly clock: TimerClock;
  private readonly bus: HookBus;
  private readonly declarations: DeclarationListeners;

  constructor(options: BrokerOptions = {}) {
    this.logger = options.logger ?? getLogger(`dq.${new.target.name}`);
    this.bus = new HookBus(this.middleware, this.logger);
    this.declarations = new DeclarationListeners(this.logger);
    this.clock = options.clock ? withTimers(options.clock) : currentClock();
    for (const middleware of options.middleware ?? defaultMiddleware())
      this.addMiddleware(middleware);
  }

  /** What this broker supports (for the conformance suite). */
  abstract get capabilities(): BrokerCapabilities;

  /**
   * Adds a middleware at the end, or before/after the first middleware of a class. Replays the
   * declarations made so far to it.
   * @throws InvalidOptionError when `before`/`after` names a class that is not installed, or both are given
   */
  addMiddleware(middleware: Middleware, position: MiddlewarePosition = {}): void {
    insertMiddleware(this.middleware, middleware, position);
    for (const option of middleware.actorOptions) this.actorOptions.add(option);
    for (const option of middleware.actorOptions) this.messageOptions.add(option);
    for (const [option, validator] of Object.entries(middleware.optionValidators)) {
      this.optionValidators.set(option, validator);
      this.messageOptions.add(option);
    }
    this.bus.replayDeclarations(middleware, this);
  }

  /**
   * Checks option values (camelCase keys) against `optionValidators`.
   * @param where - who gives them, for the message (`actor send_email`, `message <id>`)
   * @throws InvalidOptionError naming the option, showing its value and what is expected
   */
  validateOptions(options: Readonly<Record<string, unknown>>, where: string): void {
    checkOptionValues(options, this.optionValidators, where);
  }

  /** Removes a middleware instance (no effect when it is not installed). */
  removeMiddleware(middleware: Middleware): void {
    const index = this.middleware.indexOf(middleware);
    if (index < 0) return;
    this.middleware.splice(index, 1);
    this.bus.clear();
  }

  /**
   * Runs the `before<Signal>` hooks in middleware order. `MiddlewareError`s (e.g. `SkipMessage`),
   * `Retry` and interrupts propagate; any other error is logged and swallowed. Returns a Promise
   * only when a hook did.
   */
  emitBefore<S extends BeforeSignal>(
    signal: S,
    ...rest: HookRest<`before${Capitalize<S>}`>
  ): void | Promise<void> {
    return this.bus.emit(hookName("before", signal), [this, ...rest], true);
  }

  /**
   * Runs the `after<Signal>` hooks in reverse middleware order, logging and swallowing every
   * error. Returns a Promise only when a hook did.
   */
  emitAfter<S extends AfterSignal>(
    signal: S,
    ...rest: HookRest<`after${Capitalize<S>}`>
  ): void | Promise<void> {
    return this.bus.emit(hookName("after", signal), [this, ...rest], false);
  }

  /**
   * Runs one message's processing (`run`) inside the middleware's `aroundProcessMessage`
   * wrappers; `run` directly when there are none. Used by the worker.
   */
  processWithin(message: MessageProxy, run: () => Promise<void>): Promise<void> {
    return this.bus.wrapsProcessing ? this.bus.around(this, message, run) : run();
  }

  /**
   * Calls `listener` for every queue and delay queue declared so far, then for each one declared
   * later, before the `afterDeclare*` hooks (a worker starts its consumers so).
   * @returns a function that removes the listener
   */
  onDeclare(listener: DeclarationListener): () => void {
    return this.declarations.add(listener, this.queues, this.delayQueues);
  }

  /**
   * Registers an actor and declares its queue.
   * @throws InvalidOptionError when an actor of that name is already declared
   */
  declareActor(actor: Actor): void {
    if (this.actors.has(actor.actorName)) {
      throw new InvalidOptionError(
        `an actor named ${JSON.stringify(actor.actorName)} is already declared on this broker`,
      );
    }
    this.bus.emitDeclaration("beforeDeclareActor", [this, actor]);
    this.declareQueue(actor.queueName);
    this.actors.set(actor.actorName, actor);
    this.bus.emitDeclaration("afterDeclareActor", [this, actor]);
  }

  /**
   * Declares a queue and its delay queue; no effect when already declared.
   * @throws InvalidOptionError on an invalid queue name
   */
  declareQueue(queueName: string): void {
    const name = canonicalQueueName(validateQueueName(queueName));
    if (this.queues.has(name)) return;
    this.bus.emitDeclaration("beforeDeclareQueue", [this, name]);
    this.queues.add(name);
    this.onDeclareQueue(name);
    this.declarations.tell(name, "queue");
    this.bus.emitDeclaration("afterDeclareQueue", [this, name]);
    const delayName = delayQueueName(name);
    this.delayQueues.add(delayName);
    this.declarations.tell(delayName, "delayQueue");
    this.bus.emitDeclaration("afterDeclareDelayQueue", [this, delayName]);
  }

  /** Called once per newly declared queue, for brokers that keep per-queue state. */
  protected onDeclareQueue(_queueName: string): void {}

  /**
   * Enqueues a message, or delays it through the `.DQ` queue with `options.eta`.
   * @returns the enqueued copy, carrying broker-added options (`eta`, `redisMessageId`)
   * @throws QueueNotFound (stub) when the queue was never declared; ConnectionError when the server is unreachable
   */
  enqueue<R>(message: Message<R>, options: EnqueueOptions = {}): Promise<Message<R>> {
    // Every send's path: no async/await, whose extra promises cost under async hooks; a throw
    // (a bad delay, a hook's control flow, an encoding error) still comes back as a rejection.
    // From a message's after-process hooks (a retry, a pipeline step, a callback), that
    // message's ack waits for this enqueue, and a lost connection is retried with backoff first.
    const settlement = currentSettlement();
    let enqueued: Promise<Message<R>>;
    let skippable: Message<R> | undefined;
    try {
      const prepared = (skippable = this.prepareForEnqueue([message], options.delay)[0]!);
      const send = settlement
        ? () => settlement.retrying(() => this.publish([prepared]), `message ${prepared.messageId}`)
        : undefined;
      const before = this.emitBefore("enqueue", prepared, options.delay);
      // No closure on a plain send's path.
      const published = send
        ? before
          ? before.then(send)
          : send()
        : before
          ? before.then(() => this.publish([prepared]))
          : this.publish([prepared]);
      enqueued = published.then(() => {
        const after = this.emitAfter("enqueue", prepared, options.delay);
        return after ? after.then(() => prepared) : prepared;
      });
      // A before hook may leave the message out (SkipEnqueue): send resolves with it unpublished.
      if (before) enqueued = enqueued.catch((error: unknown) => skippedEnqueue(error, prepared));
    } catch (error) {
      enqueued = skippable ? skippedEnqueue(error, skippable) : Promise.reject(error);
    }
    settlement?.hold(enqueued, true);
    return enqueued;
  }

  /**
   * Enqueues many messages in one round trip where the broker supports it (Redis pipelines them).
   * Hooks run for each message as with `enqueue`.
   * @returns the enqueued copies, in order
   */
  enqueueMany<R>(
    messages: readonly Message<R>[],
    options: EnqueueOptions = {},
  ): Promise<Message<R>[]> {
    const settlement = currentSettlement();
    const enqueued = this.enqueueAll(messages, options, settlement);
    settlement?.hold(enqueued, true);
    return enqueued;
  }

  private async enqueueAll<R>(
    messages: readonly Message<R>[],
    options: EnqueueOptions,
    settlement: Settlement | undefined,
  ): Promise<Message<R>[]> {
    const prepared = this.prepareForEnqueue(messages, options.delay);
    // Hooks run in turn (a tick only when one returned a Promise); SkipEnqueue leaves a message out.
    let publishing: readonly Message<R>[] = prepared;
    for (const message of prepared) {
      try {
        const before = this.emitBefore("enqueue", message, options.delay);
        if (before) await before;
      } catch (error) {
        if (!SkipEnqueue.isInstance(error)) throw error;
        publishing = publishing.filter((kept) => kept !== message);
      }
    }
    if (publishing.length === 0) return prepared;
    if (settlement)
      await settlement.retrying(() => this.publish(publishing), `${publishing.length} messages`);
    else await this.publish(publishing);
    for (const message of publishing) {
      const after = this.emitAfter("enqueue", message, options.delay);
      if (after) await after;
    }
    return prepared;
  }

  private prepareForEnqueue<R>(
    messages: readonly Message<R>[],
    delay: number | undefined,
  ): Message<R>[] {
    return delayMessages(messages, delay, this.clock).map((message) =>
      this.decorateMessage(message),
    );
  }

  /** Lets a broker add its own options to every enqueued message (Redis: `redisMessageId`). */
  protected decorateMessage<R>(message: Message<R>): Message<R> {
    return message;
  }

  /** Stores already-prepared messages on their queues (`message.queueName`, maybe `.DQ`). */
  protected abstract publish(messages: readonly Message[]): Promise<void>;

  /**
   * Starts consuming a queue.
   * @throws QueueNotFound when the queue was never declared
   */
  abstract consume(queueName: string, options?: ConsumeOptions): Consumer;

  /** Drops every message of a queue, its delay queue and its dead letters. */
  abstract flush(queueName: string): Promise<void>;

  /** Drops every message of every declared queue. */
  abstract flushAll(): Promise<void>;

  /**
   * Waits until a queue and its delay queue are empty (for tests).
   * @throws QueueJoinTimeout after `timeout` ms
   */
  abstract join(queueName: string, options?: JoinOptions): Promise<void>;

  /** Closes connections. The broker is not usable afterwards. */
  async close(): Promise<void> {}

  /**
   * @throws ActorNotFound when no actor of that name is declared
   */
  getActor(actorName: string): Actor {
    const actor = this.actors.get(actorName);
    if (!actor)
      throw new ActorNotFound(`actor ${JSON.stringify(actorName)} is not declared on this broker`);
    return actor;
  }

  getDeclaredActors(): string[] {
    return [...this.actors.keys()];
  }

  getDeclaredQueues(): string[] {
    return [...this.queues];
  }

  getDeclaredDelayQueues(): string[] {
    return [...this.delayQueues];
  }

  /**
   * @returns the backend of the first `Results` middleware
   * @throws InvalidOptionError when no `Results` middleware is installed
   */
  getResultsBackend(): ResultBackend {
    const results = this.middleware.find((m): m is Results => m instanceof Results);
    if (!results)
      throw new InvalidOptionError(
        "the broker has no Results middleware: add `new Results({ backend })` to read results",
      );
    return results.backend;
  }
}

/** `message` when `error` is a `SkipEnqueue` (the message was left out), else a rejection. */
function skippedEnqueue<R>(error: unknown, message: Message<R>): Promise<Message<R>> {
  return SkipEnqueue.isInstance(error) ? Promise.resolve(message) : Promise.reject(error);
}
