/**
 * @dq/broker-rabbitmq — the RabbitMQ broker for dq, wire-compatible with Python Dramatiq's
 * `RabbitmqBroker`. Importing it registers the `amqp://` and `amqps://` schemes for `getBroker()`.
 */
import "./register.js";

export { RabbitmqBroker } from "./rabbitmq-broker.js";
export { RabbitmqConsumer } from "./rabbitmq-consumer.js";
export {
  AmqplibIncompatible,
  QueueArgumentsMismatch,
  QueueNotFound,
  QueueTypeUnsupported,
} from "./errors.js";
export { topology, deadMessageTtl } from "./topology.js";

export type { RabbitmqBrokerOptions, QueueMessageCounts, DeadLetter } from "./rabbitmq-broker.js";
export type { QueueDeclaration, TopologyOptions } from "./topology.js";
export type { RabbitmqTlsOptions } from "./tls.js";
