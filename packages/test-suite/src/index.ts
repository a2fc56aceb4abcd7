/**
 * @dq/test-suite — the conformance suites every dq adapter runs: `defineBrokerTests` for brokers,
 * `defineResultBackendTests` for result backends and `defineRateLimiterBackendTests` for
 * rate-limiter backends. The helpers they (and the packages' tests) use are in `@dq/core/testing`.
 */
export { defineBrokerTests } from "./broker-tests.js";
export {
  defineResultBackendTests,
  expectUnreachableResultBackend,
} from "./result-backend-tests.js";
export { defineRateLimiterBackendTests } from "./rate-limiter-backend-tests.js";
export type { BrokerFactory, BrokerTestCapabilities } from "./broker-tests.js";
export type {
  ResultBackendFactory,
  ResultBackendFactoryOptions,
  ResultBackendTestOptions,
} from "./result-backend-tests.js";
export type {
  RateLimiterBackendFactory,
  RateLimiterBackendLike,
  RateLimiterBackendTestCapabilities,
} from "./rate-limiter-backend-tests.js";
