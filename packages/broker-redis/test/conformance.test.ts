import { afterAll } from "@jest/globals";
import { defineBrokerTests } from "@dq/test-suite";
import { RedisBroker } from "../src/index.js";
import { deleteNamespaces, describeWithRedis, redisUrl, uniqueNamespace } from "./helpers.js";

const namespaces = new Set<string>();

describeWithRedis("RedisBroker conformance", () => {
  afterAll(() => deleteNamespaces(namespaces));

  defineBrokerTests(
    "RedisBroker",
    (options) => {
      const namespace = uniqueNamespace();
      namespaces.add(namespace);
      return new RedisBroker({ url: redisUrl, namespace, ...options });
    },
    {
      async deadLetterIds(broker, queueName) {
        const letters = await (broker as RedisBroker).getDeadLetters(queueName);
        return letters.map((letter) => letter.message?.messageId ?? letter.redisMessageId);
      },
      async enqueueRaw(broker, queueName, data) {
        await (broker as RedisBroker).enqueueRaw(queueName, data);
      },
    },
  );
});
