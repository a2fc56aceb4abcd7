import type { RateLimiterBackend } from "@dq/core/adapter";
import { RateLimiter, type RateLimiterOptions } from "./rate-limiter.js";
import { wholeNumber } from "./validation.js";

/** Options of `WindowRateLimiter`. */
export interface WindowRateLimiterOptions extends RateLimiterOptions {
  /** How many operations the window admits (default 1). */
  limit?: number;
  /** The sliding window, in SECONDS (default 1), as in Dramatiq: one counter per second. */
  window?: number;
}

/**
 * Admits at most `limit` operations over any `window` consecutive seconds. Storage: one counter
 * per second, `<key>@<unix_seconds>`, living `window` seconds.
 * @throws InvalidOptionError for a `limit` or `window` that is not a positive integer
 */
export class WindowRateLimiter extends RateLimiter {
  readonly limit: number;
  readonly window: number;

  constructor(backend: RateLimiterBackend, key: string, options: WindowRateLimiterOptions = {}) {
    super(backend, key, options);
    this.limit = wholeNumber("WindowRateLimiter", "limit", options.limit ?? 1);
    this.window = wholeNumber("WindowRateLimiter", "window", options.window ?? 1);
  }

  /** The keys of the seconds in the window ending now, the current second first. */
  windowKeys(now = this.clock.now()): string[] {
    const seconds = Math.floor(now / 1000);
    return Array.from({ length: this.window }, (_, i) => `${this.key}@${seconds - i}`);
  }

  protected override async tryAcquire(): Promise<boolean> {
    const [current] = this.windowKeys();
    return this.backend.incrAndSum(
      current!,
      () => this.windowKeys(),
      1,
      this.limit,
      this.window * 1000,
    );
  }
}
