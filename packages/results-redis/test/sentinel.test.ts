import { describe, expect, it } from "@jest/globals";
import { actor, Results, StubBroker, Worker, type Message } from "@dq/core";
import { usePrivateSentinels, recordingLogger, redisServerAvailable } from "@dq/core/testing";
import { RedisResultBackend } from "../src/index.js";

// Issue 24: the result backend given sentinels follows a failover (a private master, replica and
// three sentinels; the shared server is never touched).
const describeWithRedisServer = redisServerAvailable() ? describe : describe.skip;

describeWithRedisServer("RedisResultBackend with Redis Sentinel", () => {
  const sentinels = usePrivateSentinels();

  it("stores and reads every result across SENTINEL FAILOVER (durable stores)", async () => {
    const logger = recordingLogger();
    const backend = new RedisResultBackend({
      sentinels: sentinels().sentinels,
      name: sentinels().name,
      namespace: "dqtest-sentinel",
      logger,
      durableStores: { replicas: 1, timeout: 1000 },
    });
    const broker = new StubBroker({ middleware: [] });
    broker.addMiddleware(new Results({ backend, storeResults: true }));
    const square = actor((n: number) => n * n, { broker, actorName: "sentinelSquare" });
    const worker = new Worker(broker, { concurrency: 4 });
    await worker.start();
    try {
      const messages: Message<number>[] = [];
      let failover: Promise<number> | undefined;
      for (let n = 0; n < 300; n++) {
        messages.push(await square.send(n));
        if (n === 100) failover = sentinels().failover();
        if (n > 100 && n < 250) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const newMaster = await failover!;
      expect(newMaster).not.toBe(sentinels().master.port);
      await broker.join(square.queueName, { timeout: 60_000 });
      const results = await Promise.all(
        messages.map((message) => backend.getResult(message, { block: true, timeout: 30_000 })),
      );
      expect(results).toEqual(messages.map((_, n) => n * n));
      expect(await backend.getResult(await square.send(12), { block: true, timeout: 10_000 })).toBe(
        144,
      );
    } finally {
      await worker.stop({ timeout: 5000 });
      await backend.close();
    }
  }, 120_000);
});
