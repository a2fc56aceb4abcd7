import { describe } from "@jest/globals";
import { RabbitmqBroker } from "@dq/broker-rabbitmq";
import { addressFromUrl, describeWithServer, recordingLogger } from "@dq/core/testing";
import { delayQueueName, deadLetterQueueName } from "@dq/core/adapter";
import { connect } from "amqplib";
import { defineAbortScenarios, REDIS_URL } from "./scenarios.js";

const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

async function deleteQueues(name: string): Promise<void> {
  const connection = await connect(AMQP_URL);
  try {
    for (const queue of [name, delayQueueName(name), deadLetterQueueName(name)]) {
      const channel = await connection.createChannel();
      channel.on("error", () => undefined);
      await channel.deleteQueue(queue).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
  } finally {
    await connection.close();
  }
}

describeWithServer("Redis", addressFromUrl(REDIS_URL, 6379), () => {
  describeWithServer("RabbitMQ", addressFromUrl(AMQP_URL, 5672), () => {
    describe("abort on the RabbitMQ broker with the Redis abort backend", () => {
      defineAbortScenarios((middleware, queueName, clock) => {
        const broker = new RabbitmqBroker({
          url: AMQP_URL,
          middleware,
          clock,
          logger: recordingLogger(),
        });
        return {
          broker,
          cleanup: async () => {
            await broker.close();
            await deleteQueues(queueName);
          },
        };
      });
    });
  });
});
