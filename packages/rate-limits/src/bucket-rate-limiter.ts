import type { RateLimiterBackend } from "@dq/core/adapter";
import { RateLimiter, type RateLimiterOptions } from "./rate-limiter.js";
import { wholeNumber } from "./validation.js";

/** Options of `BucketRateLimiter`. */
export interface BucketRateLimiterOptions extends RateLimiterOptions {
  /** How many operations each bucket admits (default 1). */
  limit?: number;
  /** The bucket size in ms (default 1000). */
  bucket?: number;
}

/**
 * Admits at most `limit` operations per fixed time bucket. Cheap, but a burst at the end of one
 * bucket and the start of the next can admit 2 × limit in a short span (see `WindowRateLimiter`).
 * Storage: `<key>@<bucket_start_ms>`, living one bucket.
 * @throws InvalidOptionError for a `limit` or `bucket` that is not a positive integer
 */
export class BucketRateLimiter extends RateLimiter {
  readonly limit: number;
  readonly bucket: number;

  constructor(backend: RateLimiterBackend, key: string, options: BucketRateLimiterOptions = {}) {
    super(backend, key, options);
    this.limit = wholeNumber("BucketRateLimiter", "limit", options.limit ?? 1);
    this.bucket = wholeNumber("BucketRateLimiter", "bucket", options.bucket ?? 1000);
  }

  /** The key of the bucket containing `now` (UNIX ms). */
  bucketKey(now = this.clock.now()): string {
    const timestamp = Math.floor(now);
    return `${this.key}@${timestamp - (timestamp % this.bucket)}`;
  }

  protected override async tryAcquire(): Promise<boolean> {
    const key = this.bucketKey();
    if (await this.backend.add(key, 1, this.bucket)) return true;
    return this.backend.incr(key, 1, this.limit, this.bucket);
  }
}
