import { describe, expect, it } from "@jest/globals";
import { InvalidOptionError, StubBroker } from "@dq/core";
import { RedisBroker } from "@dq/broker-redis";
import { createDashboard, type DashboardOptions } from "../../src/index.js";

describe("createDashboard's options", () => {
  it("refuses bad options with InvalidOptionError naming the option and its value", async () => {
    const broker = new RedisBroker({ url: "redis://127.0.0.1:6379", lazyConnect: true });
    try {
      const cases: [Partial<DashboardOptions>, RegExp][] = [
        [{ brokers: [] }, /invalid brokers an array of 0: expected a non-empty array/],
        [{ basePath: "dq/" }, /invalid basePath "dq\/": expected a path like "\/dq"/],
        [{ readOnly: "yes" as never }, /invalid readOnly "yes": expected a boolean/],
        [{ eventInterval: 5 }, /invalid eventInterval 5: expected an integer >= 100/],
        [{ brokers: [{ id: "bad id", broker }] }, /invalid brokers an array of 1/],
        [
          { scheduler: { list: () => [] } as never },
          /invalid scheduler an object: expected an object with list\(\), pause\(name\) and resume\(name\)/,
        ],
      ];
      for (const [options, message] of cases) {
        expect(() =>
          createDashboard({ brokers: [broker], ...options } as DashboardOptions),
        ).toThrow(InvalidOptionError);
        expect(() =>
          createDashboard({ brokers: [broker], ...options } as DashboardOptions),
        ).toThrow(message);
      }
      expect(() => createDashboard({ brokers: [new StubBroker()] })).toThrow(
        /invalid brokers StubBroker: expected a RedisBroker or a RabbitmqBroker/,
      );
      expect(() =>
        createDashboard({
          brokers: [
            { id: "a", broker },
            { id: "a", broker },
          ],
        }),
      ).toThrow(/the id "a" is used twice/);
    } finally {
      await broker.close();
    }
  });

  it("names brokers redis, redis-2, ... unless given an id", async () => {
    const one = new RedisBroker({ url: "redis://127.0.0.1:6379", lazyConnect: true });
    const two = new RedisBroker({ url: "redis://127.0.0.1:6379", lazyConnect: true });
    try {
      const dashboard = createDashboard({ brokers: [one, two, { id: "redis-9", broker: one }] });
      expect([...dashboard.sources.keys()]).toEqual(["redis", "redis-2", "redis-9"]);
      await dashboard.close();
    } finally {
      await one.close();
      await two.close();
    }
  });
});
