import { randomBytes } from "node:crypto";
import { afterAll, afterEach, expect, it } from "@jest/globals";
import { Redis } from "ioredis";
import {
  actor,
  defaultMiddleware,
  group,
  Message,
  pipeline,
  ResultFailure,
  ResultMissing,
  Results,
  ResultTimeout,
  Worker,
} from "@dq/core";
import { RedisBroker } from "@dq/broker-redis";
import { addressFromUrl, describeWithServer, recordingLogger } from "@dq/core/testing";
import { RedisResultBackend } from "../src/index.js";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A pipeline step missing its last argument (the previous step's result is appended to it). */
function step(target: { queueName: string; actorName: string }, ...args: unknown[]): Message {
  return new Message({ queueName: target.queueName, actorName: target.actorName, args });
}

// Pipelines and groups end to end: a RedisBroker, a real Worker, and Results on RedisResultBackend.
describeWithServer(
  "pipelines and groups on a RedisBroker with Results on RedisResultBackend",
  addressFromUrl(url, 6379),
  () => {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    const cleanups: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });
    afterAll(() => redis.quit());

    /** A broker + result backend + running worker in a fresh namespace, all torn down after the test. */
    async function setup() {
      const namespace = `dqtest-composition-${randomBytes(6).toString("hex")}`;
      const logger = recordingLogger();
      const backend = new RedisResultBackend({ url, namespace, logger });
      const middleware = [...defaultMiddleware(), new Results({ backend })];
      const broker = new RedisBroker({ url, namespace, logger, middleware });
      const queueName = "composed";
      const ran: string[] = [];
      const options = { broker, queueName, storeResults: true, maxRetries: 0 };
      const add = actor(function add(x: number, y: number) {
        ran.push(`add(${x}, ${y})`);
        return x + y;
      }, options);
      const double = actor(async function double(x: number) {
        ran.push(`double(${x})`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return x * 2;
      }, options);
      const fail = actor(function fail(x: number) {
        ran.push(`fail(${x})`);
        throw new Error(`step failed on ${x}`);
      }, options);
      const slow = actor(async function slow(x: number) {
        ran.push(`slow(${x})`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        return `slow ${x}`;
      }, options);
      const worker = new Worker(broker, { concurrency: 4, workerTimeout: 50 });
      const resultKeys: string[] = [];
      const track = (messages: readonly Message[]) =>
        resultKeys.push(...messages.map((message) => backend.buildMessageKey(message)));
      cleanups.push(async () => {
        await worker.stop({ timeout: 5000 });
        await broker.close();
        await backend.close();
        const brokerKeys = await redis.keys(`${namespace}:*`);
        const keys = [...brokerKeys, ...resultKeys];
        if (keys.length) await redis.del(...keys);
      });
      await worker.start();
      return { broker, backend, queueName, ran, add, double, fail, slow, track, logger };
    }

    it("a pipeline of three actors gives the last step's result", async () => {
      const { broker, ran, add, double, track } = await setup();
      const piped = pipeline([add.message(1, 2), step(double), step(add, 10)], { broker });
      track(piped.messages);
      await piped.run();
      // add(1, 2) = 3 → double(3) = 6 → add(10, 6) = 16
      expect(await piped.getResult({ block: true, timeout: 20_000 })).toBe(16);
      expect(await piped.getResults({ block: true, timeout: 20_000 })).toEqual([3, 6, 16]);
      expect(ran).toEqual(["add(1, 2)", "double(3)", "add(10, 6)"]);
    });

    it("a failing middle step stops the pipeline: its failure is stored and the last step never runs", async () => {
      const { broker, backend, queueName, ran, add, fail, track } = await setup();
      const piped = pipeline([add.message(1, 2), step(fail), step(add, 10)], { broker });
      track(piped.messages);
      await piped.run();
      const middle = piped.messages[1]!;
      const failure = await middle
        .getResult({ backend, block: true, timeout: 20_000 })
        .catch((error: unknown) => error);
      expect(ResultFailure.isInstance(failure)).toBe(true);
      expect((failure as Error).message).toMatch(/step failed on 3/);
      await broker.join(queueName, { timeout: 20_000 });
      expect(ran).toEqual(["add(1, 2)", "fail(3)"]);
      const last = await piped.getResult().catch((error: unknown) => error);
      expect(ResultMissing.isInstance(last)).toBe(true);
      // A blocking read of the pipeline gives up at its timeout rather than returning anything.
      const blocked = await piped
        .getResult({ block: true, timeout: 1000 })
        .catch((error: unknown) => error);
      expect(ResultTimeout.isInstance(blocked)).toBe(true);
      // As in Dramatiq, counting completed steps reads the failed step's result, so it raises its failure.
      const counted = await piped.completedCount.catch((error: unknown) => error);
      expect(ResultFailure.isInstance(counted)).toBe(true);
    });

    it("a group of 100 messages returns its 100 results in order with getResults({ block: true })", async () => {
      const { broker, add, double, track } = await setup();
      const children = Array.from({ length: 100 }, (_, i) =>
        i % 2 ? add.message(i, 1000) : double.message(i),
      );
      track(children);
      const grouped = group(children, { broker });
      await grouped.run();
      const results = await grouped.getResults({ block: true, timeout: 30_000 });
      expect(results).toEqual(Array.from({ length: 100 }, (_, i) => (i % 2 ? i + 1000 : i * 2)));
      expect(await grouped.completed).toBe(true);
    });

    it("a blocking getResult returns as soon as the worker stores the value, well before its timeout", async () => {
      const { backend, slow, track } = await setup();
      const message = await slow.send(7);
      track([message]);
      // A message reads through the global broker unless given a backend (as in Dramatiq).
      // The actor takes 500 ms, so the value is not there yet: the read below really blocks.
      const early = await message.getResult({ backend }).catch((error: unknown) => error);
      expect(ResultMissing.isInstance(early)).toBe(true);
      const started = Date.now();
      expect(await message.getResult({ backend, block: true, timeout: 120_000 })).toBe("slow 7");
      // Generous: a read that waited for its timeout would take 120 s.
      expect(Date.now() - started).toBeLessThan(20_000);
    });
  },
);
