import { StubBroker, type StubBroker as StubBrokerType } from "@dq/core";
import { defineBrokerTests } from "../src/index.js";

defineBrokerTests("StubBroker", (options) => new StubBroker(options), {
  async deadLetterIds(broker, queueName) {
    return ((broker as StubBrokerType).deadLettersByQueue.get(queueName) ?? []).map(
      (proxy) => proxy.messageId,
    );
  },
  async enqueueRaw(broker, queueName, data) {
    (broker as StubBrokerType).enqueueRaw(queueName, data);
  },
});
