/**
 * @dq/rate-limits — rate limiters (concurrent, bucket, window), distributed barriers and group
 * completion callbacks, unique messages and a completed-message guard over a shared backend whose storage matches Python Dramatiq's. The Redis and
 * Memcached backends live in the subpaths `@dq/rate-limits/redis` and `@dq/rate-limits/memcached`.
 */
export { RateLimiter } from "./rate-limiter.js";
export { ConcurrentRateLimiter } from "./concurrent-rate-limiter.js";
export { BucketRateLimiter } from "./bucket-rate-limiter.js";
export { WindowRateLimiter } from "./window-rate-limiter.js";
export { Barrier } from "./barrier.js";
export { RateLimiterBackend } from "@dq/core/adapter";
export { StubRateLimiterBackend } from "./stub-rate-limiter-backend.js";
export { GroupCallbacks } from "./group-callbacks.js";
export { Unique, DuplicateMessage, duplicateOf, isDuplicate } from "./unique.js";
export { CompletedGuard } from "./completed-guard.js";
export { canonicalJson, defaultUniqueKey } from "./unique-options.js";

export type { AcquireOptions, RateLimiterOptions } from "./rate-limiter.js";
export type { ConcurrentRateLimiterOptions } from "./concurrent-rate-limiter.js";
export type { BucketRateLimiterOptions } from "./bucket-rate-limiter.js";
export type { WindowRateLimiterOptions } from "./window-rate-limiter.js";
export type { BarrierWaitOptions } from "./barrier.js";
export type { GroupCallbacksOptions } from "./group-callbacks.js";
export type { Duplicate, UniqueMiddlewareOptions } from "./unique.js";
export type { CompletedGuardOptions } from "./completed-guard.js";
export type { UniqueMode, UniqueOptions, UniqueUntil } from "./unique-options.js";
