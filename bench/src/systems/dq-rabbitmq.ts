import { RabbitmqBroker } from "@dq/broker-rabbitmq";
import { deleteQueues, queueOf } from "../rabbitmq-util.js";
import { dqProducer, dqWorker } from "./dq-redis.js";
import type { SystemDriver } from "./system.js";

/**
 * dq with `@dq/broker-rabbitmq`: without publisher confirms (`confirmDelivery: false`, Dramatiq's
 * default: an awaited enqueue means "written to the socket"), or with them (dq's default: "stored
 * by the server", as on Redis).
 */
function dqOnRabbitmq(confirmDelivery: boolean): SystemDriver {
  return {
    id: confirmDelivery ? "dq-rabbitmq-confirm" : "dq-rabbitmq",
    label: confirmDelivery ? "dq (RabbitMQ, confirms)" : "dq (RabbitMQ)",
    server: "rabbitmq",
    async createProducer(scope) {
      return dqProducer(
        new RabbitmqBroker({ url: scope.amqpUrl, confirmDelivery }),
        queueOf(scope),
      );
    },
    async startWorker(scope, concurrency, onComplete) {
      return dqWorker(
        new RabbitmqBroker({ url: scope.amqpUrl }),
        queueOf(scope),
        concurrency,
        onComplete,
      );
    },
    async cleanup(scope) {
      const queue = queueOf(scope);
      await deleteQueues(scope.amqpUrl, [queue, `${queue}.DQ`, `${queue}.XQ`]);
    },
  };
}

export const dqRabbitmq = dqOnRabbitmq(false);
export const dqRabbitmqConfirm = dqOnRabbitmq(true);
