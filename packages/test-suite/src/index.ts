/**
 * @dq/test-suite — the conformance suites every dq adapter runs: `defineBrokerTests` for brokers,
 * `defineResultBackendTests` for result backends (and, in later releases, rate-limiter backends).
 */
export { defineBrokerTests } from "./broker-tests.js";
export { defineResultBackendTests } from "./result-backend-tests.js";
export { recordingLogger, uniqueQueueName, waitFor } from "./helpers.js";
export { addressFromServers, addressFromUrl, describeWithServer, serverReachable } from "./servers.js";
export type { BrokerFactory, BrokerTestCapabilities } from "./broker-tests.js";
export type { ResultBackendFactory, ResultBackendFactoryOptions, ResultBackendTestOptions } from "./result-backend-tests.js";
export type { ServerAddress } from "./servers.js";
