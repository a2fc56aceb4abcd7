import { DramatiqError, Interrupt } from "@dq/core";

/** How an abort treats its message: `cancel` only skips it if it has not started; `abort` also interrupts it while it runs. */
export type AbortMode = "cancel" | "abort";

/**
 * The interrupt of an aborted or cancelled message: the reason its `AbortSignal` fires with, and
 * the error it fails with. Final: `Retries` does not retry it, the message is acked, and `Results`
 * stores it as the message's failure.
 */
export class Abort extends Interrupt {
  /** `cancel`: the message was skipped before it started; `abort`: it was interrupted while running. */
  readonly mode: AbortMode;
  /** How long the worker waits for an actor that ignores the signal, in ms. */
  readonly abortTimeout: number;

  constructor(message: string, options: { mode?: AbortMode; abortTimeout?: number } = {}) {
    super(message);
    this.mode = options.mode ?? "abort";
    this.abortTimeout = options.abortTimeout ?? 0;
  }

  override get final(): boolean {
    return true;
  }
}

/** `abort()` found no backend: no `backend` given and no `Abortable` middleware on the broker. */
export class AbortNotConfigured extends DramatiqError {}
