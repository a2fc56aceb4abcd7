import { registerBrokerScheme } from "@dq/core/adapter";
import { RabbitmqBroker } from "./rabbitmq-broker.js";

// Importing the package makes `DQ_BROKER_URL=amqp://...` work with `getBroker()`.
registerBrokerScheme("amqp", (url) => new RabbitmqBroker({ url }));
registerBrokerScheme("amqps", (url) => new RabbitmqBroker({ url }));
