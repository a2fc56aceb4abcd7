import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, expect, it } from "@jest/globals";
import { actor, Worker } from "@dq/core";
import { recordingLogger } from "@dq/core/testing";
import { RedisBroker } from "../src/index.js";
import {
  deleteNamespaces,
  describeWithRedis,
  plainClient,
  redisUrl,
  uniqueNamespace,
  waitFor,
} from "./helpers.js";

const namespaces = new Set<string>();

describeWithRedis("RedisBroker recovery", () => {
  afterAll(() => deleteNamespaces(namespaces));

  it("loses nothing when a worker process is SIGKILLed holding in-flight and prefetched messages", async () => {
    const namespace = uniqueNamespace();
    namespaces.add(namespace);
    const queueName = "crash";
    const redis = plainClient();
    const logger = recordingLogger();
    const broker = new RedisBroker({
      url: redisUrl,
      namespace,
      heartbeatTimeout: 2000,
      maintenanceChance: 1_000_000,
      logger,
    });
    let worker: Worker | undefined;
    const child = spawn(process.execPath, [path.join(__dirname, "fixtures", "worker-child.mjs")], {
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        DQ_TEST_NAMESPACE: namespace,
        DQ_TEST_QUEUE: queueName,
      },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    let childErrors = "";
    child.stderr!.on("data", (chunk: Buffer) => (childErrors += chunk.toString()));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      const work = actor(
        async function crashWork(x: number) {
          await redis.sadd(`${namespace}:test-done`, String(x));
        },
        { broker, queueName },
      );
      await broker.enqueueMany(Array.from({ length: 30 }, (_, i) => work.message(i)));
      await waitFor(
        async () => (await redis.scard(`${namespace}:test-done`)) >= 2,
        "the child to process 2 messages",
      );
      const ackSets = await redis.keys(`${namespace}:__acks__.*`);
      expect(ackSets).toHaveLength(1);
      const held = await redis.scard(ackSets[0]!);
      expect(held).toBeGreaterThan(2); // in flight and prefetched
      child.kill("SIGKILL");
      await exited;
      const doneByChild = await redis.scard(`${namespace}:test-done`);
      expect(doneByChild).toBeLessThan(30);

      worker = new Worker(broker, { concurrency: 4, workerTimeout: 100 });
      await worker.start();
      await waitFor(
        async () => (await redis.scard(`${namespace}:test-done`)) === 30,
        "all 30 messages",
        30_000,
      );
      await broker.join(queueName, { timeout: 10_000 });
      expect((await broker.getQueueMessageCounts(queueName)).deadLettered).toBe(0);
      expect(await redis.exists(ackSets[0]!)).toBe(0);
      expect(childErrors).toBe("");
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await worker?.stop({ timeout: 5000 });
      await broker.close();
      redis.disconnect();
    }
  }, 60_000);

  it("recovers when Redis kills the broker's connections mid-run", async () => {
    const namespace = uniqueNamespace();
    namespaces.add(namespace);
    const queueName = "killed";
    const redis = plainClient();
    const logger = recordingLogger();
    const broker = new RedisBroker({ url: redisUrl, namespace, logger });
    const worker = new Worker(broker, {
      concurrency: 4,
      queuePrefetch: 8,
      workerTimeout: 100,
      restartDelay: 100,
    });
    try {
      const seen = new Set<number>();
      const work = actor(
        async function killedWork(x: number) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          seen.add(x);
        },
        { broker, queueName },
      );
      await worker.start();
      await broker.enqueueMany(Array.from({ length: 400 }, (_, i) => work.message(i)));
      await waitFor(() => seen.size >= 20, "the first messages");
      for (let round = 0; round < 2; round++) {
        const clients = (await redis.client("LIST")) as string;
        const ids = clients
          .split("\n")
          .filter((line) => line.includes(`name=dq:${namespace}:`))
          .map((line) => /\bid=(\d+)/.exec(line)?.[1])
          .filter((id): id is string => id !== undefined);
        expect(ids.length).toBeGreaterThanOrEqual(2); // commands and wake-ups
        for (const id of ids) await redis.client("KILL", "ID", id);
        expect(seen.size).toBeLessThan(400); // killed mid-run
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      await waitFor(() => seen.size === 400, "all 400 messages", 30_000);
      await broker.join(queueName, { timeout: 10_000 });
      expect((await broker.getQueueMessageCounts(queueName)).deadLettered).toBe(0);
      expect(
        logger.lines.filter((line) => line.includes("Lost the connection")).length,
      ).toBeGreaterThanOrEqual(1);
      expect(logger.lines.some((line) => line.includes("Reconnected"))).toBe(true);
      // A producer gets through again too.
      await work.send(1000);
      await waitFor(() => seen.has(1000), "a message sent after the reconnection");
    } finally {
      await worker.stop({ timeout: 5000 });
      await broker.close();
      redis.disconnect();
    }
  }, 60_000);

  it("sends its script again when Redis has lost it (SCRIPT FLUSH), keeping the calls' order", async () => {
    const namespace = uniqueNamespace();
    namespaces.add(namespace);
    const redis = plainClient();
    const broker = new RedisBroker({ url: redisUrl, namespace, maintenanceChance: 0 });
    try {
      broker.declareQueue("q");
      const first = await broker.enqueueRaw("q", "first");
      await redis.script("FLUSH");
      // Issued in one tick: each is refused (NOSCRIPT) and sent again with the script, in order.
      const ids = await Promise.all(["a", "b", "c"].map((data) => broker.enqueueRaw("q", data)));
      expect(await redis.lrange(`${namespace}:q`, 0, -1)).toEqual([first, ...ids]);
      expect(await redis.hget(`${namespace}:q.msgs`, ids[2]!)).toBe("c");
    } finally {
      await broker.close();
      redis.disconnect();
    }
  });
});
