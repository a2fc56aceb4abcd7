import { RabbitmqBroker } from "@dq/broker-rabbitmq";
import amqp from "amqplib";
import { dqProducer, dqWorker } from "./dq-redis.js";
import type { Scope, SystemDriver } from "./system.js";

/** RabbitMQ has no key prefix: each scope gets its own queue (and `.DQ`, `.XQ`). */
function queueOf(scope: Scope): string {
  return scope.prefix.replace(/[^a-zA-Z0-9_]/g, "_");
}

/**
 * dq with `@dq/broker-rabbitmq`: with the broker's defaults (no publisher confirms, as Dramatiq's
 * RabbitmqBroker), or with `confirmDelivery`, where an awaited enqueue means "stored by the
 * server" as it does on Redis.
 */
function dqOnRabbitmq(confirmDelivery: boolean): SystemDriver {
  return {
    id: confirmDelivery ? "dq-rabbitmq-confirm" : "dq-rabbitmq",
    label: confirmDelivery ? "dq (RabbitMQ, confirms)" : "dq (RabbitMQ)",
    server: "rabbitmq",
    async createProducer(scope) {
      return dqProducer(new RabbitmqBroker({ url: scope.amqpUrl, confirmDelivery }), queueOf(scope));
    },
    async startWorker(scope, concurrency, onComplete) {
      return dqWorker(new RabbitmqBroker({ url: scope.amqpUrl }), queueOf(scope), concurrency, onComplete);
    },
    async cleanup(scope) {
      const connection = await amqp.connect(scope.amqpUrl);
      try {
        const channel = await connection.createChannel();
        const queue = queueOf(scope);
        for (const name of [queue, `${queue}.DQ`, `${queue}.XQ`]) await channel.deleteQueue(name);
        await channel.close();
      } finally {
        await connection.close();
      }
    },
  };
}

export const dqRabbitmq = dqOnRabbitmq(false);
export const dqRabbitmqConfirm = dqOnRabbitmq(true);

/** Whether RabbitMQ accepts a connection. */
export async function rabbitmqReachable(url: string): Promise<boolean> {
  try {
    const connection = await amqp.connect(url, { timeout: 3000 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}
