import type { Broker } from "../broker.js";
import type { MessageProxy } from "../consumer.js";
import { executionStore, getAbortSignal } from "../execution.js";
import { Middleware } from "./middleware.js";

/**
 * Exposes the message being processed to the code that processes it, through
 * `AsyncLocalStorage`: correct across awaits and concurrently running messages. Not a default.
 */
export class CurrentMessage extends Middleware {
  /** @returns the message being processed in this async context, or null outside one */
  static getCurrentMessage(): MessageProxy | null {
    return executionStore.getStore()?.current ?? null;
  }

  /** @returns the abort signal of the message running in this async context */
  static getAbortSignal(): AbortSignal | undefined {
    return getAbortSignal();
  }

  override beforeProcessMessage(_broker: Broker, message: MessageProxy): void {
    const context = executionStore.getStore();
    if (context && context.message === message) context.current = message;
  }

  override afterProcessMessage(): void {
    const context = executionStore.getStore();
    if (context) context.current = null;
  }

  override afterSkipMessage(): void {
    this.afterProcessMessage();
  }
}
