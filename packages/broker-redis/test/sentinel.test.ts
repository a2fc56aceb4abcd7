import { expect, it } from "@jest/globals";
import { actor, Worker } from "@dq/core";
import { usePrivateSentinels, recordingLogger } from "@dq/core/testing";
import { RedisBroker } from "../src/index.js";
import { describeWithRedis, uniqueNamespace, waitFor } from "./helpers.js";

// Issue 24: a master, a replica and three sentinels of the test's own; SENTINEL FAILOVER while a
// producer sends and a worker consumes 5,000 messages. With `durableEnqueue`, a send resolves only
// once a replica has the message, so none is lost however the failover falls; duplicates are counted.
describeWithRedis("RedisBroker with Redis Sentinel", () => {
  const sentinels = usePrivateSentinels();

  it("processes every message across SENTINEL FAILOVER (durable enqueue on)", async () => {
    const namespace = uniqueNamespace();
    const queueName = "failover";
    const logger = recordingLogger();
    const options = {
      sentinels: sentinels().sentinels,
      name: sentinels().name,
      namespace,
      maintenanceChance: 0,
      logger,
      durableEnqueue: { replicas: 1, timeout: 2000 },
    };
    const producer = new RedisBroker(options);
    const consumer = new RedisBroker(options);
    const runs = new Map<number, number>();
    // The worker's actor (the producer's twin below only sends).
    actor(
      function sentinelWork(n: number) {
        runs.set(n, (runs.get(n) ?? 0) + 1);
      },
      { broker: consumer, queueName },
    );
    const send = actor(function sentinelWork(_n: number) {}, { broker: producer, queueName });
    const worker = new Worker(consumer, { concurrency: 8, workerTimeout: 200, restartDelay: 300 });
    const total = 5000;
    let sendRetries = 0;
    const errorKinds = new Map<string, number>();
    let failedOver = 0;
    try {
      await worker.start();
      const sendOne = async (n: number) => {
        for (let attempt = 0; ; attempt++) {
          try {
            await send.send(n);
            return;
          } catch (error) {
            // A send that fails may or may not have reached Redis: sending it again can only
            // duplicate, never lose.
            sendRetries++;
            const kind = String((error as Error).message).slice(0, 90);
            errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
            if (attempt > 100) throw error;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      };
      const batch = 50;
      for (let start = 0; start < total; start += batch) {
        if (start === 1500) {
          const before = await sentinels().masterPort();
          void sentinels()
            .failover()
            .then(
              (port) => (failedOver = port === before ? -1 : port),
              () => (failedOver = -1),
            );
        }
        await Promise.all(
          Array.from({ length: Math.min(batch, total - start) }, (_, i) => sendOne(start + i)),
        );
        // Spread the middle of the production over the failover (about 3 s).
        if (start >= 1500 && start < 4000) await new Promise((resolve) => setTimeout(resolve, 60));
        if (start === 4000) await waitFor(() => failedOver !== 0, "the failover", 60_000);
      }
      await waitFor(() => failedOver !== 0, "the failover to complete", 60_000);
      expect(failedOver).toBeGreaterThan(0);
      await waitFor(() => runs.size === total, `all ${total} messages to run`, 120_000);
      const duplicates = [...runs.values()].filter((count) => count > 1).length;
      // The figures for the issue note: duplicates come from sends retried after NotReplicated.
      process.stderr.write(
        `sentinel failover: sent ${total}, processed ${runs.size}, duplicates ${duplicates}, send retries ${sendRetries} ${JSON.stringify([...errorKinds])}\n`,
      );
      expect(runs.size).toBe(total);
    } finally {
      await worker.stop({ timeout: 5000 });
      await producer.close();
      await consumer.close();
    }
  }, 240_000);
});
