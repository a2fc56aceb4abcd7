/**
 * @dq/test-suite — the conformance suites every dq adapter runs: `defineBrokerTests` for brokers
 * (and, in later releases, result backends and rate-limiter backends).
 */
export { defineBrokerTests } from "./broker-tests.js";
export { loadWireFixture, recordingLogger, uniqueQueueName, waitFor } from "./helpers.js";
export type { BrokerFactory, BrokerTestCapabilities } from "./broker-tests.js";
