import { describe } from "@jest/globals";
import { RedisBroker } from "@dq/broker-redis";
import { addressFromUrl, describeWithServer, recordingLogger } from "@dq/core/testing";
import { deletePrefix, defineAbortScenarios, REDIS_URL } from "./scenarios.js";

describeWithServer("Redis", addressFromUrl(REDIS_URL, 6379), () => {
  describe("abort on the Redis broker with the Redis abort backend", () => {
    defineAbortScenarios((middleware, queueName, clock) => {
      const namespace = `dqtest-${queueName}`;
      const broker = new RedisBroker({
        url: REDIS_URL,
        namespace,
        middleware,
        clock,
        logger: recordingLogger(),
      });
      return {
        broker,
        cleanup: async () => {
          await broker.close();
          await deletePrefix(`${namespace}:`);
        },
      };
    });
  });
});
