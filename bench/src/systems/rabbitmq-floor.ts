import amqp from "amqplib";
import { deleteQueues, queueOf } from "../rabbitmq-util.js";
import type { SystemDriver } from "./system.js";

/**
 * Not a queue library: RabbitMQ's floor on this machine, measured in the same run. A bare amqplib
 * client with no queue code: the producer sends the job's index, persistent, to a durable queue
 * (as dq and Python Dramatiq publish, without confirms); the worker consumes with a prefetch of
 * its concurrency and acks each delivery. B3 only: without confirms a send resolves once written,
 * so B1 would measure the client, and its drain is no ceiling (no message to decode or run).
 */
export const rabbitmqFloor: SystemDriver = {
  id: "rabbitmq-floor",
  label: "bare amqplib queue (floor)",
  server: "rabbitmq",
  cases: ["B3"],
  async createProducer(scope) {
    const connection = await amqp.connect(scope.amqpUrl);
    const channel = await connection.createChannel();
    const queue = queueOf(scope);
    await channel.assertQueue(queue, { durable: true });
    return {
      async enqueue(index) {
        channel.sendToQueue(queue, Buffer.from(String(index)), { persistent: true });
      },
      async enqueueBulk(from, count) {
        for (let i = 0; i < count; i++)
          channel.sendToQueue(queue, Buffer.from(String(from + i)), { persistent: true });
      },
      async close() {
        await connection.close();
      },
    };
  },
  async startWorker(scope, concurrency, onComplete) {
    const connection = await amqp.connect(scope.amqpUrl);
    const channel = await connection.createChannel();
    const queue = queueOf(scope);
    await channel.assertQueue(queue, { durable: true });
    await channel.prefetch(concurrency);
    await channel.consume(queue, (delivery) => {
      if (!delivery) return;
      channel.ack(delivery);
      onComplete(Number(delivery.content.toString()));
    });
    return {
      async close() {
        await connection.close();
      },
    };
  },
  async cleanup(scope) {
    await deleteQueues(scope.amqpUrl, [queueOf(scope)]);
  },
};
