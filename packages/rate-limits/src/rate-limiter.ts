import { RateLimitExceeded } from "@dq/core";
import { systemClock, type Clock, type RateLimiterBackend } from "@dq/core/adapter";
import { validKey } from "./validation.js";

/** What `RateLimiter.acquire` takes. */
export interface AcquireOptions {
  /** Throw `RateLimitExceeded` when no slot is free (default true); otherwise resolve to false. */
  raiseOnFailure?: boolean;
}

/** Options every limiter takes. */
export interface RateLimiterOptions {
  /** The clock that bucket and window limiters read (default the system clock). */
  clock?: Clock;
}

/**
 * Base class of rate limiters: decides, through a shared backend, whether an operation may run
 * now across every process (Node or Python) using the same key.
 */
export abstract class RateLimiter {
  readonly backend: RateLimiterBackend;
  readonly key: string;
  protected readonly clock: Clock;

  constructor(backend: RateLimiterBackend, key: string, options: RateLimiterOptions = {}) {
    this.backend = backend;
    this.key = validKey(new.target.name, key);
    this.clock = options.clock ?? systemClock;
  }

  /** Tries to take a slot. */
  protected abstract tryAcquire(): Promise<boolean>;

  /** Gives back a slot taken by `tryAcquire` (limiters without slots do nothing). */
  protected async release(): Promise<void> {}

  /**
   * Runs `fn` if a slot is free, releasing the slot afterwards (also when `fn` throws).
   * Unlike Python's context manager, `fn` does not run at all when no slot was acquired.
   * @returns whether `fn` ran
   * @throws RateLimitExceeded when no slot is free and `raiseOnFailure` (the default)
   * @throws whatever `fn` throws
   */
  acquire(fn: () => unknown): Promise<boolean>;
  acquire(options: AcquireOptions | undefined, fn: () => unknown): Promise<boolean>;
  async acquire(
    optionsOrFn: AcquireOptions | undefined | (() => unknown),
    maybeFn?: () => unknown,
  ): Promise<boolean> {
    const [options, fn] =
      typeof optionsOrFn === "function" ? [{}, optionsOrFn] : [optionsOrFn ?? {}, maybeFn];
    if (typeof fn !== "function") throw new TypeError("acquire needs a function to run");
    const acquired = await this.tryAcquire();
    if (!acquired) {
      if (options.raiseOnFailure ?? true)
        throw new RateLimitExceeded(`rate limit exceeded for key '${this.key}'`);
      return false;
    }
    try {
      await fn();
    } finally {
      await this.release();
    }
    return true;
  }
}
