import { isControlFlow } from "./broker-options.js";
import type { Logger } from "./logger.js";
import type { Broker } from "./broker.js";
import type { MessageProxy } from "./consumer.js";
import type { HookName, Middleware } from "./middleware/middleware.js";

type ListName = HookName | "aroundProcessMessage";

/**
 * Calls the middleware's hooks for a broker: the hook lists are cached per name (cleared when
 * the middleware list changes), and errors are logged or, for control flow, propagated.
 */
export class HookBus {
  private hookCache = new Map<ListName, Middleware[]>();

  constructor(
    private readonly middleware: readonly Middleware[],
    private readonly logger: Logger,
  ) {}

  /** Forgets the cached hook lists (after the middleware list changed). */
  clear(): void {
    this.hookCache.clear();
  }

  private hooks(name: ListName): Middleware[] {
    let list = this.hookCache.get(name);
    if (!list) {
      list = this.middleware.filter((m) => typeof m[name] === "function");
      if (name.startsWith("after")) list.reverse();
      this.hookCache.set(name, list);
    }
    return list;
  }

  /** Calls one middleware's hook; a returned Promise is observed for errors only. */
  callHook(middleware: Middleware, name: HookName, args: unknown[]): void {
    try {
      const result = (middleware[name] as ((...a: unknown[]) => unknown) | undefined)?.apply(
        middleware,
        args,
      );
      if (result instanceof Promise)
        result.catch((error: unknown) => this.logHookError(middleware, name, error));
    } catch (error) {
      this.logHookError(middleware, name, error);
    }
  }

  /** Logs an error a hook threw or rejected with. */
  logHookError(middleware: Middleware, name: string, error: unknown): void {
    this.logger.error(`Unexpected failure in ${middleware.constructor.name}.${name}`, error);
  }

  // Synchronous until a hook returns a Promise, so that a bus of synchronous hooks costs no
  // microtasks on the per-message path; from there on, the remaining hooks are awaited in turn.
  emit(
    name: HookName,
    args: unknown[],
    propagateControlFlow: boolean,
    from = 0,
  ): void | Promise<void> {
    const list = this.hooks(name);
    for (let i = from; i < list.length; i++) {
      const middleware = list[i]!;
      let result: unknown;
      try {
        result = (middleware[name] as (...a: unknown[]) => unknown).apply(middleware, args);
      } catch (error) {
        if (propagateControlFlow && isControlFlow(error)) throw error;
        this.logHookError(middleware, name, error);
        continue;
      }
      if (result instanceof Promise)
        return this.emitRest(name, args, propagateControlFlow, i, result);
    }
  }

  private async emitRest(
    name: HookName,
    args: unknown[],
    propagateControlFlow: boolean,
    index: number,
    pending: Promise<unknown>,
  ): Promise<void> {
    const list = this.hooks(name);
    try {
      await pending;
    } catch (error) {
      if (propagateControlFlow && isControlFlow(error)) throw error;
      this.logHookError(list[index]!, name, error);
    }
    const rest = this.emit(name, args, propagateControlFlow, index + 1);
    if (rest) await rest;
  }

  /** Whether a middleware wraps message processing (`aroundProcessMessage`). */
  get wrapsProcessing(): boolean {
    return this.hooks("aroundProcessMessage").length > 0;
  }

  /** Runs `run` inside every `aroundProcessMessage`, the first middleware outermost. */
  around(broker: Broker, message: MessageProxy, run: () => Promise<void>): Promise<void> {
    return this.wrap(this.hooks("aroundProcessMessage"), 0, broker, message, run);
  }

  private wrap(
    list: readonly Middleware[],
    index: number,
    broker: Broker,
    message: MessageProxy,
    run: () => Promise<void>,
  ): Promise<void> {
    if (index >= list.length) return run();
    const middleware = list[index]!;
    let inner: Promise<void> | undefined;
    const next = () => (inner ??= this.wrap(list, index + 1, broker, message, run));
    let result: Promise<void>;
    try {
      result = middleware.aroundProcessMessage!(broker, message, next);
    } catch (error) {
      return this.recover(middleware, error, inner, next);
    }
    // A wrapper that handed back `next()`'s own Promise (it had nothing to do for this message)
    // costs no extra Promise: that one does not reject with the wrapper's errors.
    if (result === inner) return result;
    return result.catch((error: unknown) => this.recover(middleware, error, inner, next));
  }

  // A wrapper that throws or rejects before calling `next` must not lose the message.
  private recover(
    middleware: Middleware,
    error: unknown,
    inner: Promise<void> | undefined,
    next: () => Promise<void>,
  ): Promise<void> {
    this.logHookError(middleware, "aroundProcessMessage", error);
    return inner ? Promise.resolve() : next();
  }

  /** Runs a declaration hook list synchronously; a returned Promise is observed for errors only. */
  emitDeclaration(name: HookName, args: unknown[]): void {
    for (const middleware of this.hooks(name)) this.callHook(middleware, name, args);
  }

  /** Replays the declarations made so far to a middleware added late (`afterDeclare*` hooks). */
  replayDeclarations(middleware: Middleware, broker: Broker): void {
    this.clear();
    for (const actor of broker.actors.values())
      this.callHook(middleware, "afterDeclareActor", [broker, actor]);
    for (const queue of broker.queues)
      this.callHook(middleware, "afterDeclareQueue", [broker, queue]);
    for (const queue of broker.delayQueues)
      this.callHook(middleware, "afterDeclareDelayQueue", [broker, queue]);
  }
}
