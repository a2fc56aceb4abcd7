/**
 * @dq/redis-connection — the ioredis connection policy shared by dq's Redis adapters
 * (`@dq/broker-redis`, `@dq/results-redis`, `@dq/rate-limits/redis`): fail-fast defaults, the
 * retry strategy, closing a client, and the mapping of connection failures to `ConnectionFailed`
 * with named problems (refused, unreachable, authentication failed, timed out, TLS handshake failed).
 * It uses ioredis's types only: the adapters bring ioredis.
 */
export {
  cappedRetry,
  closeClient,
  DEFAULT_COMMAND_TIMEOUT,
  DEFAULT_CONNECT_TIMEOUT,
  failFastOptions,
} from "./policy.js";
export {
  classifyConnectionError,
  describeConnectionProblem,
  endpointOf,
  waitUntilReady,
} from "./connection-errors.js";
export type { ConnectionProblem, Endpoint } from "./connection-errors.js";
export { checkOptions } from "./options.js";
export {
  DURABLE_WRITE_EXPECTED,
  durableWriteOptions,
  durableWriteSchema,
  NotReplicated,
  ReplicaWaiter,
} from "./replica-waiter.js";
export type { DurableWriteOptions } from "./replica-waiter.js";
