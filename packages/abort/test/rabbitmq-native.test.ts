import { describe, expect, it } from "@jest/globals";
import { RabbitmqBroker } from "@dq/broker-rabbitmq";
import {
  addressFromUrl,
  describeWithServer,
  recordingLogger,
  uniqueQueueName,
} from "@dq/core/testing";
import { connect } from "amqplib";
import { RabbitmqAbortBackend } from "../src/rabbitmq.js";
import { AMQP_URL, deleteQueues } from "./rabbitmq-helpers.js";
import { defineAbortScenarios } from "./scenarios.js";

const stream = `dqtest.aborts.${uniqueQueueName("native")}`;

describeWithServer("RabbitMQ", addressFromUrl(AMQP_URL, 5672), () => {
  describe("abort on the RabbitMQ broker with the RabbitMQ-native abort backend (a stream)", () => {
    defineAbortScenarios(
      (middleware, queueName, clock) => {
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
      },
      {
        make: () => new RabbitmqAbortBackend({ url: AMQP_URL, stream, maxAge: "1h" }),
        cleanup: async () => {
          const connection = await connect(AMQP_URL);
          const channel = await connection.createChannel();
          await channel.deleteQueue(stream);
          await connection.close();
        },
      },
    );

    it("a request survives a worker restart: a new backend reads it from the stream", async () => {
      const writer = new RabbitmqAbortBackend({ url: AMQP_URL, stream, maxAge: "1h" });
      await writer.notify([{ key: "cancel:restart-test", params: {} }], 600_000);
      await writer.close();
      const reader = new RabbitmqAbortBackend({ url: AMQP_URL, stream, maxAge: "1h" });
      try {
        expect(await reader.poll("cancel:restart-test")).toEqual({
          key: "cancel:restart-test",
          params: {},
        });
        expect(await reader.poll("cancel:restart-test")).toBeNull();
      } finally {
        await reader.close();
      }
    });
  });
});
