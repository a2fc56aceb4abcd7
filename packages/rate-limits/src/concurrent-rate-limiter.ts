import type { RateLimiterBackend } from "@dq/core/adapter";
import { RateLimiter, type RateLimiterOptions } from "./rate-limiter.js";
import { wholeNumber } from "./validation.js";

/** Options of `ConcurrentRateLimiter`. */
export interface ConcurrentRateLimiterOptions extends RateLimiterOptions {
  /** How many operations may hold the key at once (default 1: a distributed mutex). */
  limit?: number;
  /** How long the counter lives, in ms, so a crashed holder's slot comes back (default 900 000). */
  ttl?: number;
}

/**
 * Lets at most `limit` operations run at the same time. Storage: the counter `<key>`.
 * @throws InvalidOptionError for a `limit` or `ttl` that is not a positive integer
 */
export class ConcurrentRateLimiter extends RateLimiter {
  readonly limit: number;
  readonly ttl: number;

  constructor(
    backend: RateLimiterBackend,
    key: string,
    options: ConcurrentRateLimiterOptions = {},
  ) {
    super(backend, key, options);
    this.limit = wholeNumber("ConcurrentRateLimiter", "limit", options.limit ?? 1);
    this.ttl = wholeNumber("ConcurrentRateLimiter", "ttl", options.ttl ?? 900_000);
  }

  protected override async tryAcquire(): Promise<boolean> {
    if (await this.backend.add(this.key, 1, this.ttl)) return true;
    return this.backend.incr(this.key, 1, this.limit, this.ttl);
  }

  protected override async release(): Promise<void> {
    await this.backend.decr(this.key, 1, 0, this.ttl);
  }
}
