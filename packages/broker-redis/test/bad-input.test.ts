import { randomUUID } from "node:crypto";
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

describeWithRedis("RedisBroker bad input", () => {
  afterAll(() => deleteNamespaces(namespaces));

  it("dead-letters a malformed body and skips a nil entry with a logged reason, and keeps consuming", async () => {
    const namespace = uniqueNamespace();
    namespaces.add(namespace);
    const logger = recordingLogger();
    const broker = new RedisBroker({ url: redisUrl, namespace, logger });
    const redis = plainClient();
    const worker = new Worker(broker, { workerTimeout: 100 });
    try {
      const seen: string[] = [];
      actor((x: string) => void seen.push(x), { broker, queueName: "bad", actorName: "survivor" });
      await worker.start();
      const malformed = Buffer.from('{"queue_name":"bad","actor_name":"survivor","args":[');
      const malformedId = await broker.enqueueRaw("bad", malformed);
      // An id whose data is missing from bad.msgs (Dramatiq issues #266, #442).
      const nilId = randomUUID();
      await redis.rpush(`${namespace}:bad`, nilId);
      await broker.enqueue(broker.getActor("survivor").message("after both"));

      await waitFor(() => seen.includes("after both"), "the good message");
      await waitFor(
        async () => (await broker.getDeadLetters("bad")).length === 1,
        "the dead letter",
      );
      const [letter] = await broker.getDeadLetters("bad");
      expect(letter!.redisMessageId).toBe(malformedId);
      expect(letter!.data.equals(malformed)).toBe(true);
      expect(letter!.message).toBeUndefined();
      expect(
        logger.lines.some((line) => line.startsWith("error") && line.includes("does not decode")),
      ).toBe(true);
      expect(
        logger.lines.some(
          (line) => line.startsWith("warn") && line.includes(`Skipping message ${nilId}`),
        ),
      ).toBe(true);
      const ackSets = await redis.keys(`${namespace}:__acks__.*`);
      for (const key of ackSets) expect(await redis.sismember(key, nilId)).toBe(0);
      await broker.join("bad", { timeout: 5000 });
      expect(seen).toEqual(["after both"]);
    } finally {
      await worker.stop({ timeout: 5000 });
      await broker.close();
      redis.disconnect();
    }
  });

  it("gives a producer ConnectionFailed with the cause when Redis is unreachable, without hanging", async () => {
    const { ConnectionFailed } = await import("@dq/core");
    const logger = recordingLogger();
    // Port 1 on loopback refuses connections.
    const broker = new RedisBroker({
      url: "redis://127.0.0.1:1",
      namespace: uniqueNamespace(),
      logger,
      connectTimeout: 1000,
    });
    try {
      const work = actor((x: number) => x, {
        broker,
        queueName: "unreachable",
        actorName: "unreachableWork",
      });
      const error = await work.send(1).catch((caught: unknown) => caught);
      expect(ConnectionFailed.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain("127.0.0.1:1");
      expect((error as Error).cause).toBeDefined();
    } finally {
      await broker.close();
    }
  });

  it("registers redis:// with core's broker URL registry", async () => {
    const { brokerFromUrl, getBrokerSchemes } = await import("@dq/core");
    expect(getBrokerSchemes()).toEqual(expect.arrayContaining(["redis", "rediss"]));
    const broker = brokerFromUrl(redisUrl);
    try {
      expect(broker).toBeInstanceOf(RedisBroker);
      expect((broker as RedisBroker).namespace).toBe("dramatiq");
    } finally {
      await broker.close();
    }
  });
});
