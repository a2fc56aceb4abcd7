import { afterAll } from "@jest/globals";
import { defineBrokerTests } from "@dq/test-suite";
import { RabbitmqBroker } from "../src/index.js";
import { AMQP_URL, deleteQueues, describeRabbit } from "./helpers.js";

const brokers: RabbitmqBroker[] = [];

describeRabbit("RabbitmqBroker conformance", () => {
  // The default (publisher confirms), and Dramatiq's default (none: sends resolve once written).
  for (const confirmDelivery of [true, false]) {
    defineBrokerTests(
      `RabbitmqBroker (confirms ${confirmDelivery ? "on" : "off"})`,
      (options) => {
        const broker = new RabbitmqBroker({
          url: AMQP_URL,
          connectionName: "dq conformance",
          confirmDelivery,
          ...options,
        });
        brokers.push(broker);
        return broker;
      },
      {
        async deadLetterIds(broker, queueName) {
          const letters = await (broker as RabbitmqBroker).getDeadLetters(queueName);
          return letters.flatMap((letter) => (letter.message ? [letter.message.messageId] : []));
        },
        async enqueueRaw(broker, queueName, data) {
          await (broker as RabbitmqBroker).enqueueRaw(queueName, data);
        },
      },
    );
  }

  afterAll(async () => {
    await deleteQueues(new Set(brokers.flatMap((broker) => broker.getDeclaredQueues())));
  });
});
