/**
 * @dq/test-suite — the conformance suites every dq adapter runs: `defineBrokerTests` for brokers
 * and `defineRateLimiterBackendTests` for rate-limiter backends (result backends in a later release).
 */
export { defineBrokerTests } from "./broker-tests.js";
export { defineRateLimiterBackendTests } from "./rate-limiter-backend-tests.js";
export { loadWireFixture, recordingLogger, uniqueQueueName, waitFor } from "./helpers.js";
export type { BrokerFactory, BrokerTestCapabilities } from "./broker-tests.js";
export type { RateLimiterBackendFactory, RateLimiterBackendLike, RateLimiterBackendTestCapabilities } from "./rate-limiter-backend-tests.js";
