import { AsyncLocalStorage } from "node:async_hooks";
import type { MessageProxy } from "./consumer.js";
import type { Settlement } from "./settlement.js";

/** What the worker keeps for each running message, visible to its actor through async context. */
export interface ExecutionContext {
  /** The message being processed. */
  readonly message: MessageProxy;
  /** The message as `CurrentMessage` exposes it (set by that middleware). */
  current: MessageProxy | null;
  /** @internal What the message's ack waits for; set while its after-process hooks run. */
  settlement?: Settlement | undefined;
}

/** The async context the worker runs each message (hooks and actor) in. */
export const executionStore = new AsyncLocalStorage<ExecutionContext>();

/**
 * The `AbortSignal` of the message running in this async context: aborted with
 * `TimeLimitExceeded` or `Shutdown` when the message is interrupted. Undefined outside a worker.
 */
export function getAbortSignal(): AbortSignal | undefined {
  return executionStore.getStore()?.message.signal;
}
