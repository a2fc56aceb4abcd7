import { afterEach, beforeEach, expect, it } from "@jest/globals";
import { actor, Worker } from "@dq/core";
import { PrivateRedis, recordingLogger } from "@dq/core/testing";
import { Redis } from "ioredis";
import { RedisBroker } from "../src/index.js";
import { describeWithRedis, uniqueNamespace, waitFor } from "./helpers.js";

// Issue 16 item 3: a Redis restart while a live worker holds delayed and in-flight messages. The
// worker's broker keeps beating, so heartbeat-based maintenance never returns what it holds: after
// the reconnect the broker itself must reconcile its ack sets with what its consumers hold.
describeWithRedis("RedisBroker across a Redis restart", () => {
  let server: PrivateRedis;

  beforeEach(async () => {
    server = await PrivateRedis.start(["--appendonly", "yes", "--appendfsync", "always"]);
  }, 30_000);

  afterEach(async () => {
    await server.destroy();
  });

  it("processes every held delayed and ready message exactly once, without the worker exiting", async () => {
    const namespace = uniqueNamespace();
    const queueName = "restart";
    const logger = recordingLogger();
    const broker = new RedisBroker({ url: server.url, namespace, maintenanceChance: 0, logger });
    const runs = new Map<string, number>();
    const work = actor(
      async function restartWork(key: string) {
        runs.set(key, (runs.get(key) ?? 0) + 1);
        if (key.startsWith("ready")) await new Promise((resolve) => setTimeout(resolve, 40));
      },
      { broker, queueName },
    );
    const worker = new Worker(broker, { concurrency: 4, workerTimeout: 200, restartDelay: 300 });
    const plain = new Redis(server.url, { maxRetriesPerRequest: 1 });
    plain.on("error", () => undefined);
    const delayed = 300;
    const ready = 200;
    try {
      await worker.start();
      const eta = 5000;
      await broker.enqueueMany(
        Array.from({ length: delayed }, (_, i) => work.message(`delayed-${i}`)),
        { delay: eta },
      );
      await broker.enqueueMany(Array.from({ length: ready }, (_, i) => work.message(`ready-${i}`)));
      const delayAcks = `${namespace}:__acks__.${broker.brokerId}.${queueName}.DQ`;
      await waitFor(
        async () => (await plain.scard(delayAcks)) === delayed,
        "the worker to hold every delayed message",
        20_000,
      );
      await waitFor(() => runs.size >= 10, "some ready messages to run", 20_000);
      expect([...runs.keys()].some((key) => key.startsWith("delayed"))).toBe(false);

      // Down long enough for every consumer's fetch to fail (worker timeout 200 ms).
      await server.stop("SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await server.start();

      const total = delayed + ready;
      await waitFor(
        () => runs.size === total,
        `all ${total} messages to run (missing: ${total - runs.size})`,
        45_000,
      );
      await broker.join(queueName, { timeout: 20_000 });
      await worker.join();
      const duplicates = [...runs.values()].filter((count) => count > 1).length;
      expect(duplicates).toBe(0);
      expect(await plain.scard(delayAcks)).toBe(0);
      expect(await plain.scard(`${namespace}:__acks__.${broker.brokerId}.${queueName}`)).toBe(0);
    } finally {
      await worker.stop({ timeout: 5000 });
      await broker.close();
      plain.disconnect();
    }
  }, 120_000);
});
