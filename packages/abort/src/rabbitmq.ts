/**
 * @dq/abort/rabbitmq — abort requests for RabbitMQ-only deployments: `RabbitmqAbortBackend`.
 */
export { RabbitmqAbortBackend } from "./rabbitmq-abort-backend.js";
export type { RabbitmqAbortBackendOptions } from "./rabbitmq-abort-backend.js";
