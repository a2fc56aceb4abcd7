import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "@jest/globals";
import { RedisBroker } from "@dq/broker-redis";
import {
  ResultFailure,
  Results,
  StubResultBackend,
  Worker,
  actor,
  getAbortSignal,
  type Broker,
} from "@dq/core";
import {
  addressFromUrl,
  describeWithServer,
  recordingLogger,
  rejection,
  uniqueQueueName,
  waitFor,
} from "@dq/core/testing";
import { Redis } from "ioredis";
import { Abortable, AbortClient, RedisAbortBackend, type AbortOptions } from "../src/index.js";
import { deletePrefix, REDIS_URL } from "./scenarios.js";

interface Fixture {
  namespace: string;
  message_id: string;
  cases: {
    python: string;
    dq: AbortOptions;
    commands: string[][];
    keys: Record<string, { type: string; values: string[]; pttl: number }>;
  }[];
}

const fixture = JSON.parse(
  // Jest runs from the package directory.
  readFileSync(join(process.cwd(), "test", "fixtures", "dramatiq-abort-keys.json"), "utf8"),
) as Fixture;

describeWithServer("Redis", addressFromUrl(REDIS_URL, 6379), () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(() => redis.quit());

  describe("dramatiq-abort's keys", () => {
    for (const testCase of fixture.cases) {
      it(`writes what ${testCase.python} writes, byte for byte`, async () => {
        const keys = Object.keys(testCase.keys);
        await redis.del(...keys);
        cleanups.push(() => redis.del(...keys));
        const backend = new RedisAbortBackend({ url: REDIS_URL });
        cleanups.push(() => backend.close());
        await backend.client.ping();
        const port = (backend.client as unknown as { stream: { localPort: number } }).stream
          .localPort;
        // The commands as Redis received them, from the backend's connection only.
        const monitor = await redis.monitor();
        const seen: string[][] = [];
        monitor.on("monitor", (_time: string, args: string[], source: string) => {
          if (source.endsWith(`:${port}`)) seen.push(args);
        });
        await new AbortClient(backend).abort(fixture.message_id, testCase.dq);
        await waitFor(() => seen.some((args) => args[0]?.toUpperCase() === "EXEC"), "EXEC");
        monitor.disconnect();
        const commands = seen.map(([name, ...rest]) => [name!.toUpperCase(), ...rest]);
        // Before writing, dq reads its own due-time record (a GET of `<prefix>eta:<id>`): its
        // writes are dramatiq-abort's, command for command.
        expect(commands[0]).toEqual(["GET", `${fixture.namespace}eta:${fixture.message_id}`]);
        expect(commands.slice(1)).toEqual(testCase.commands);
        expect(keys.sort()).toEqual(
          (await redis.keys(`${fixture.namespace}*${fixture.message_id}`)).sort(),
        );
        for (const [key, expected] of Object.entries(testCase.keys)) {
          expect(await redis.type(key)).toBe(expected.type);
          const values = await redis.lrangeBuffer(key, 0, -1);
          expect(values.map((value) => value.toString("latin1"))).toEqual(expected.values);
          const pttl = await redis.pttl(key);
          expect(pttl).toBeLessThanOrEqual(expected.pttl);
          expect(pttl).toBeGreaterThan(expected.pttl - 10_000);
        }
      });
    }
  });

  describe("a request written the Python way", () => {
    function setup() {
      const namespace = `dqtest-${uniqueQueueName("abortpy")}`;
      const queueName = uniqueQueueName("dqabortpy");
      const results = new StubResultBackend();
      // dramatiq-abort's default prefix: what a Python service writes.
      const backend = new RedisAbortBackend({ url: REDIS_URL });
      const broker: Broker = new RedisBroker({
        url: REDIS_URL,
        namespace,
        logger: recordingLogger(),
      });
      broker.addMiddleware(new Results({ backend: results, storeResults: true }));
      broker.addMiddleware(new Abortable({ backend }));
      const worker = new Worker(broker, { concurrency: 2, workerTimeout: 100 });
      cleanups.push(async () => {
        await worker.stop({ timeout: 5000 });
        await broker.close();
        await backend.close();
        await deletePrefix(`${namespace}:`);
      });
      return { queueName, results, broker, worker };
    }

    it("cancels a pending message for a dq worker (RPUSH {} + PEXPIRE)", async () => {
      const env = setup();
      const ran: number[] = [];
      const job = actor((x: number) => void ran.push(x), {
        broker: env.broker,
        queueName: env.queueName,
        actorName: "python_cancelled",
      });
      const message = await job.send(1);
      const key = `dramatiq:aborts:cancel:${message.messageId}`;
      cleanups.push(() => redis.del(key));
      await redis.multi().rpush(key, "{}").pexpire(key, 90000).exec();
      await env.worker.start();
      const failure = await rejection(
        env.results.getResult(message, { block: true, timeout: 20_000 }),
      );
      expect(failure).toBeInstanceOf(ResultFailure);
      expect((failure as ResultFailure).origExcType).toBe("Abort");
      expect(ran).toEqual([]);
      expect(await redis.exists(key)).toBe(0);
    });

    it('aborts a running message for a dq worker (RPUSH {"abort_timeout": 0})', async () => {
      const env = setup();
      const started: string[] = [];
      const job = actor(
        async function python_aborted() {
          started.push("yes");
          const signal = getAbortSignal()!;
          await new Promise((_, reject) =>
            signal.addEventListener("abort", () => reject(signal.reason as Error)),
          );
        },
        { broker: env.broker, queueName: env.queueName },
      );
      await env.worker.start();
      const message = await job.send();
      await waitFor(() => started.length === 1, "the actor to start");
      const cancel = `dramatiq:aborts:cancel:${message.messageId}`;
      const abortKey = `dramatiq:aborts:abort:${message.messageId}`;
      cleanups.push(() => redis.del(cancel, abortKey));
      await redis
        .multi()
        .rpush(cancel, "{}")
        .pexpire(cancel, 90000)
        .rpush(abortKey, '{"abort_timeout": 0}')
        .pexpire(abortKey, 90000)
        .exec();
      const failure = await rejection(
        env.results.getResult(message, { block: true, timeout: 20_000 }),
      );
      expect((failure as ResultFailure).origExcType).toBe("Abort");
      expect(await redis.exists(abortKey)).toBe(0);
    });
  });
});
