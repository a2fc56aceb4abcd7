/**
 * @dq/test-suite — the conformance suites every dq adapter runs: `defineBrokerTests` for brokers,
 * `defineResultBackendTests` for result backends and `defineRateLimiterBackendTests` for
 * rate-limiter backends, plus the helpers they share.
 */
export { defineBrokerTests } from "./broker-tests.js";
export { defineResultBackendTests, expectUnreachableResultBackend } from "./result-backend-tests.js";
export { defineRateLimiterBackendTests } from "./rate-limiter-backend-tests.js";
export { loadWireFixture, recordingLogger, restoreRedisRecording, uniqueQueueName, waitFor, withEta } from "./helpers.js";
export type { RecordedRedisKey, RedisWriter } from "./helpers.js";
export { addressFromServers, addressFromUrl, describeWithServer, serverReachable } from "./servers.js";
export { APPEND_ONLY, freePort, PrivateRedis, redisServerAvailable } from "./private-redis.js";
export type { BrokerFactory, BrokerTestCapabilities } from "./broker-tests.js";
export type { ResultBackendFactory, ResultBackendFactoryOptions, ResultBackendTestOptions } from "./result-backend-tests.js";
export type { RateLimiterBackendFactory, RateLimiterBackendLike, RateLimiterBackendTestCapabilities } from "./rate-limiter-backend-tests.js";
export type { ServerAddress } from "./servers.js";
