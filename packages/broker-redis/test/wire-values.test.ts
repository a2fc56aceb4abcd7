import { afterAll, expect, it } from "@jest/globals";
import { actor, Worker } from "@dq/core";
import { recordingLogger } from "@dq/core/testing";
import { RedisBroker } from "../src/index.js";
import {
  deleteNamespaces,
  describeWithRedis,
  redisUrl,
  uniqueNamespace,
  waitFor,
} from "./helpers.js";

const namespaces = new Set<string>();

describeWithRedis("RedisBroker wire values", () => {
  afterAll(() => deleteNamespaces(namespaces));

  it("dead-letters valid JSON holding invalid UTF-8 with the reason, instead of running it with U+FFFD", async () => {
    const namespace = uniqueNamespace();
    namespaces.add(namespace);
    const logger = recordingLogger();
    const broker = new RedisBroker({ url: redisUrl, namespace, logger });
    const worker = new Worker(broker, { workerTimeout: 100 });
    try {
      const seen: unknown[] = [];
      actor((text: string) => void seen.push(text), {
        broker,
        queueName: "utf",
        actorName: "utf8",
      });
      await worker.start();
      const bytes = Buffer.concat([
        Buffer.from('{"queue_name":"utf","actor_name":"utf8","args":["caf'),
        Buffer.from([0xff]),
        Buffer.from('"],"kwargs":{},"options":{},"message_id":"u-1","message_timestamp":1}'),
      ]);
      await broker.enqueueRaw("utf", bytes);
      await broker.enqueue(broker.getActor("utf8").message("after"));
      await waitFor(() => seen.includes("after"), "the good message");
      await waitFor(
        async () => (await broker.getDeadLetters("utf")).length === 1,
        "the dead letter",
      );
      const [letter] = await broker.getDeadLetters("utf");
      expect(letter!.data.equals(bytes)).toBe(true);
      expect(letter!.message).toBeUndefined();
      expect(seen).toEqual(["after"]);
      expect(
        logger.lines.some(
          (line) =>
            line.startsWith("error Dead-lettering") &&
            line.includes("not valid UTF-8 (an invalid byte sequence at byte 52: 0xff"),
        ),
      ).toBe(true);
    } finally {
      await worker.stop({ timeout: 5000 });
      await broker.close();
    }
  });

  it("carries NaN, ±Infinity, -0, 2^63-1 and 1e-7 through Redis to the actor and writes Python's bytes", async () => {
    const namespace = uniqueNamespace();
    namespaces.add(namespace);
    const broker = new RedisBroker({ url: redisUrl, namespace, logger: recordingLogger() });
    const worker = new Worker(broker, { workerTimeout: 100 });
    try {
      const seen: unknown[][] = [];
      const wire = actor((...args: unknown[]) => void seen.push(args), {
        broker,
        queueName: "values",
        actorName: "values",
      });
      await worker.start();
      const sent = await wire.send(NaN, Infinity, -Infinity, -0, 2n ** 63n - 1n, 1e-7);
      await waitFor(() => seen.length === 1, "the message");
      expect(seen[0]).toEqual([NaN, Infinity, -Infinity, -0, 2n ** 63n - 1n, 1e-7]);
      expect(Object.is(seen[0]![3], -0)).toBe(true);
      expect(sent.encode().toString()).toContain(
        '"args":[NaN,Infinity,-Infinity,-0.0,9223372036854775807,1e-07]',
      );
    } finally {
      await worker.stop({ timeout: 5000 });
      await broker.close();
    }
  });
});
