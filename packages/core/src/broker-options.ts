import type { Clock } from "./clock.js";
import { Interrupt, MiddlewareError, Retry } from "./errors.js";
import type { Logger } from "./logger.js";
import type { HookName, Middleware } from "./middleware/middleware.js";

/** What every broker constructor takes. */
export interface BrokerOptions {
  /** The middleware list; Dramatiq's defaults when omitted. */
  middleware?: Middleware[];
  /** Where the broker and its worker log. */
  logger?: Logger;
  /** The clock for delays and timestamps (tests replace it). */
  clock?: Clock;
}

/** What `enqueue` takes. */
export interface EnqueueOptions {
  /** Deliver the message after this many ms (through the `.DQ` queue with `eta`). */
  delay?: number;
}

/** What `join` takes. */
export interface JoinOptions {
  /** Give up with `QueueJoinTimeout` after this many ms. */
  timeout?: number;
}

/**
 * What a broker implementation supports, for the conformance suite in `@dq/test-suite`.
 */
export interface BrokerCapabilities {
  /** Delayed messages through `.DQ`. */
  delay: boolean;
  /** Dead-lettering on nack. */
  deadLetters: boolean;
  /** `join()` waits for in-flight messages too. */
  exactJoin: boolean;
  /** `requeue()` returns delivered messages to the queue. */
  requeue: boolean;
}

/** A middleware class, to position another middleware by. */
export type MiddlewareClass = abstract new (...args: never[]) => Middleware;

const hookNames = new Map<string, HookName>();

/** `before` + `Signal`, built once per signal. */
export function hookName(kind: "before" | "after", signal: string): HookName {
  const key = kind + signal;
  let name = hookNames.get(key);
  if (name === undefined) {
    name = `${kind}${signal[0]!.toUpperCase()}${signal.slice(1)}` as HookName;
    hookNames.set(key, name);
  }
  return name;
}

/** Whether a hook error is control flow that `emitBefore` propagates. */
export const isControlFlow = (error: unknown) =>
  MiddlewareError.isInstance(error) || Retry.isInstance(error) || Interrupt.isInstance(error);

/** What a declaration listener is told: a queue, or its delay queue, was declared. */
export type DeclarationListener = (queueName: string, kind: "queue" | "delayQueue") => void;
