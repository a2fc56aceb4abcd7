/**
 * @dq/core — Dramatiq for TypeScript: actors, messages, the middleware bus, the StubBroker and the
 * Worker. Adapters (`@dq/broker-redis`, `@dq/broker-rabbitmq`, ...) implement its contracts.
 *
 * This entry is the user API. What broker, backend and middleware authors need besides it is in
 * `@dq/core/adapter`; the helpers the packages' tests share are in `@dq/core/testing`.
 */
export { actor, Actor } from "./actor.js";
export { GenericActor } from "./generic-actor.js";
export { Message } from "./message.js";
export { group, pipeline, Group, Pipeline } from "./composition.js";
export {
  JSONEncoder,
  V8Encoder,
  getEncoder,
  setEncoder,
  pythonJson,
  messageJson,
} from "./encoder.js";
export { Broker } from "./broker.js";
export { StubBroker } from "./stub-broker.js";
export {
  getBroker,
  getBrokerAsync,
  setBroker,
  isImplicitBroker,
  getBrokerSchemes,
  brokerFromUrl,
  brokerFromUrlAsync,
} from "./global-broker.js";
export { BROKER_ADAPTERS } from "./broker-url.js";
export { Consumer, MessageProxy } from "./consumer.js";
export { Worker } from "./worker.js";
export { Middleware } from "./middleware/middleware.js";
export { AgeLimit } from "./middleware/age-limit.js";
export { TimeLimit } from "./middleware/time-limit.js";
export { ShutdownNotifications } from "./middleware/shutdown-notifications.js";
export { Callbacks } from "./middleware/callbacks.js";
export { Pipelines } from "./middleware/pipelines.js";
export { Retries } from "./middleware/retries.js";
export { CurrentMessage } from "./middleware/current-message.js";
export { defaultMiddleware } from "./middleware/defaults.js";
export { Results } from "./results/results.js";
export { ResultBackend } from "./results/result-backend.js";
export { StubResultBackend } from "./results/stub-result-backend.js";
export { getAbortSignal } from "./execution.js";
export { holdAck } from "./settlement.js";
export { createLogger, getLogger, setLoggerFactory } from "./logger.js";
export {
  DramatiqError,
  BrokerError,
  ActorNotFound,
  QueueNotFound,
  QueueJoinTimeout,
  ConnectionError,
  ConnectionClosed,
  ConnectionFailed,
  DecodeError,
  EncodeError,
  RateLimitExceeded,
  Retry,
  ResultError,
  ResultMissing,
  ResultTimeout,
  ResultFailure,
  MiddlewareError,
  SkipMessage,
  SkipEnqueue,
  Interrupt,
  TimeLimitExceeded,
  Shutdown,
  IsolationError,
  ThreadCrashed,
  InvalidOptionError,
  InvalidArgumentsError,
} from "./errors.js";

export type {
  ActorArgs,
  ActorDeclarationOptions,
  ActorOptions,
  MessageBuilder,
  MessageOptionFields,
  MessageWithOptions,
  MiddlewareActorOptions,
  MiddlewareMessageOptions,
} from "./actor.js";
export type { ArgsSchema, SchemaInput, StandardSchemaV1 } from "./standard-schema.js";
export type { GenericActorMeta } from "./generic-actor.js";
export type { MessageData, MessageFields, GetResultOptions } from "./message.js";
export type { MessageOptions } from "./options.js";
export type {
  CompositionResultOptions,
  GroupChild,
  GroupCompletionMiddleware,
} from "./composition.js";
export type {
  AnyMessage,
  AnyPipeline,
  GroupChildResult,
  GroupResults,
  LeadingArgs,
  PipelineMissing,
  PipelineResult,
  PipelineStep,
  PipelineSteps,
  StepMissing,
  StepResult,
  TrailingArg,
} from "./composition-types.js";
export type { Encoder } from "./encoder.js";
export type {
  BrokerCapabilities,
  BrokerOptions,
  DeclarationListener,
  EnqueueOptions,
  JoinOptions,
} from "./broker.js";
export type { StubBrokerOptions } from "./stub-broker.js";
export type { BrokerFactory } from "./global-broker.js";
export type { ConsumeOptions } from "./consumer.js";
export type { WorkerOptions, IsolationOptions } from "./worker.js";
export type { EnqueueRetryOptions } from "./settlement.js";
export type {
  Awaitable,
  AfterSignal,
  BeforeSignal,
  ForkSpec,
  HookArgs,
  HookName,
  MiddlewareHooks,
  ProcessOutcome,
} from "./middleware/middleware.js";
export type { RetriesOptions, RetryWhen, Throws } from "./middleware/retries.js";
export type { ResultsOptions } from "./results/results.js";
export type { ResultBackendOptions, StoredFailure } from "./results/result-backend.js";
export type { Logger } from "./logger.js";
export type { ExecutionContext } from "./execution.js";
