import { describe } from "@jest/globals";
import { RabbitmqBroker } from "@dq/broker-rabbitmq";
import { addressFromUrl, describeWithServer, recordingLogger } from "@dq/core/testing";
import { AMQP_URL, deleteQueues } from "./rabbitmq-helpers.js";
import { defineAbortScenarios, REDIS_URL } from "./scenarios.js";

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
