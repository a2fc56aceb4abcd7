/**
 * @dq/core/adapter — what broker, result-backend, rate-limiter-backend and middleware authors need
 * besides the user API of `@dq/core` (whose contracts — `Broker`, `Consumer`, `MessageProxy`,
 * `ResultBackend`, `Middleware`, the errors — they import from there): option validation and
 * translation, environment readers, queue naming, deadlines, settlement, clocks and the broker
 * scheme registry.
 */
export { optionExplicit, optionOr } from "./middleware/option-lookup.js";
export { Missing, describeError } from "./results/result-backend.js";
export { computeBackoff, sleep, systemClock } from "./clock.js";
export { envInteger, envSetting, dqEnvName } from "./env.js";
export { uuid4 } from "./uuid.js";
export { Deadlines } from "./deadlines.js";
export { toApiKey, toApiOptions, toWireKey, toWireOptions } from "./options.js";
export { editDistance, optionValidator } from "./option-validation.js";
export {
  canonicalQueueName,
  deadLetterQueueName,
  delayQueueName,
  isDelayQueueName,
  validateQueueName,
} from "./queue-names.js";
export { registerBrokerScheme, importBrokerAdapter } from "./global-broker.js";
export { isUnreachableCode, maskUrl } from "./broker-url.js";
export { messageJson } from "./encoder.js";
export { decodeDelivery } from "./worker/consumer-loop.js";
export { addThreadPreload } from "./isolation/declaration.js";
export { RateLimiterBackend } from "./rate-limiter-backend.js";

export type { OptionValidator } from "./option-validation.js";
export type { Clock, TimerClock } from "./clock.js";
export type { ScheduleInfo } from "./schedule-info.js";
