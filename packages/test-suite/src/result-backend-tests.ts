import { createHash, randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "@jest/globals";
import {
  actor,
  ConnectionError,
  defaultMiddleware,
  Message,
  ResultFailure,
  ResultMissing,
  Results,
  StubBroker,
  Worker,
  type ResultBackend,
} from "@dq/core";
import { recordingLogger } from "@dq/core/testing";
import { defineResultReadCases } from "./result-read-tests.js";
import { LONG_TIMEOUT, QuotaExceeded, rejection, sleep, TTL } from "./result-test-helpers.js";

/** What a result backend factory gets: a namespace of its own for this test. */
export interface ResultBackendFactoryOptions {
  namespace: string;
  useNamespacePrefixKeys?: boolean;
}

/** Builds a fresh result backend for one test. */
export type ResultBackendFactory = (
  options: ResultBackendFactoryOptions,
) => ResultBackend | Promise<ResultBackend>;

/** Hooks of a result backend's conformance run. */
export interface ResultBackendTestOptions {
  /** Deletes the keys a test wrote (called before the backend is closed). */
  deleteKeys?(backend: ResultBackend, keys: string[]): Promise<void>;
}

/**
 * The result backend contract as jest tests. Call it at the top level of a test file:
 * `defineResultBackendTests("RedisResultBackend", ({ namespace }) => new RedisResultBackend({ url, namespace }))`.
 * Each test uses its own namespace (`dqtest-results-<random>`), deletes the keys it wrote through
 * `deleteKeys` when given, and closes its backend.
 */
export function defineResultBackendTests(
  name: string,
  factory: ResultBackendFactory,
  testOptions: ResultBackendTestOptions = {},
): void {
  const cleanups: (() => Promise<unknown>)[] = [];

  async function setup(options: { useNamespacePrefixKeys?: boolean } = {}) {
    const namespace = `dqtest-results-${randomBytes(6).toString("hex")}`;
    const backend = await factory({ namespace, ...options });
    const keys = new Set<string>();
    cleanups.push(async () => {
      try {
        if (testOptions.deleteKeys && keys.size) await testOptions.deleteKeys(backend, [...keys]);
      } finally {
        await backend.close();
      }
    });
    /** Deletes the result of `sent` after the test. */
    const track = <M extends Message>(sent: M): M => {
      keys.add(backend.buildMessageKey(sent));
      return sent;
    };
    /** A new message whose result is deleted after the test. */
    const message = <R = unknown>(actorName = "add", queueName = "dqtest"): Message<R> =>
      track(new Message<R>({ queueName, actorName, args: [1, 2] }));
    return { backend, namespace, message, track };
  }

  describe(`${name}: result backend contract`, () => {
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });

    it("stores and reads back numbers, strings, null, booleans, arrays and objects", async () => {
      const { backend, message } = await setup();
      const values: unknown[] = [
        3,
        0,
        -1.5,
        2 ** 40,
        "s",
        "",
        "héllo ✓ 日本",
        null,
        true,
        false,
        [1, [2, "x"], null],
        { a: { b: [1, 2] }, c: null, "d e": "f" },
        [],
      ];
      for (const value of values) {
        const stored = message();
        await backend.storeResult(stored, value, TTL);
        expect(await backend.getResult(stored)).toEqual(value);
        expect(await backend.getResult(stored, { block: true, timeout: LONG_TIMEOUT })).toEqual(
          value,
        );
        expect(await stored.getResult({ backend })).toEqual(value);
      }
    });

    it("stores an undefined result as null", async () => {
      const { backend, message } = await setup();
      const stored = message();
      await backend.storeResult(stored, undefined, TTL);
      expect(await backend.getResult(stored)).toBeNull();
    });

    it("keys results by the MD5 of namespace:queue:actor:id, with the delay-queue suffix stripped", async () => {
      const { backend, namespace, message } = await setup();
      const stored = message("compute", "dqtest_q");
      const expected = createHash("md5")
        .update(`${namespace}:dqtest_q:compute:${stored.messageId}`, "utf8")
        .digest("hex");
      expect(backend.buildMessageKey(stored)).toBe(expected);
      const delayed = stored.copy({ queueName: "dqtest_q.DQ" });
      expect(backend.buildMessageKey(delayed)).toBe(expected);
      await backend.storeResult(delayed, "from the delay queue", TTL);
      expect(await backend.getResult(stored)).toBe("from the delay queue");
    });

    it("keys results by the plain string with useNamespacePrefixKeys", async () => {
      const { backend, namespace, message } = await setup({ useNamespacePrefixKeys: true });
      const stored = message("compute", "dqtest_q");
      expect(backend.buildMessageKey(stored)).toBe(
        `${namespace}:dqtest_q:compute:${stored.messageId}`,
      );
      await backend.storeResult(stored, { ok: 1 }, TTL);
      expect(await backend.getResult(stored)).toEqual({ ok: 1 });
    });

    defineResultReadCases({ setup });

    it("lets two blocked readers read the same result, and leaves it in place", async () => {
      const { backend, message } = await setup();
      const stored = message();
      const readers = [
        backend.getResult(stored, { block: true, timeout: LONG_TIMEOUT }),
        backend.getResult(stored, { block: true, timeout: LONG_TIMEOUT }),
      ];
      await sleep(200);
      await backend.storeResult(stored, { answer: 42 }, TTL);
      expect(await Promise.all(readers)).toEqual([{ answer: 42 }, { answer: 42 }]);
      expect(await backend.getResult(stored)).toEqual({ answer: 42 });
      expect(await backend.getResult(stored, { block: true, timeout: LONG_TIMEOUT })).toEqual({
        answer: 42,
      });
    });

    it("replaces a result stored again under the same message", async () => {
      const { backend, message } = await setup();
      const stored = message();
      await backend.storeResult(stored, "first", TTL);
      await backend.storeResult(stored, "second", TTL);
      expect(await backend.getResult(stored)).toBe("second");
      expect(await backend.getResult(stored, { block: true, timeout: LONG_TIMEOUT })).toBe(
        "second",
      );
    });

    it("keeps results of different messages apart", async () => {
      const { backend, message } = await setup();
      const [first, second] = [message(), message()];
      await backend.storeResult(first, 1, TTL);
      expect(ResultMissing.isInstance(await rejection(backend.getResult(second)))).toBe(true);
      await backend.storeResult(second, 2, TTL);
      expect([await backend.getResult(first), await backend.getResult(second)]).toEqual([1, 2]);
    });

    it("expires results after their TTL", async () => {
      const { backend, message } = await setup();
      const [short, long] = [message(), message()];
      // 2 s: Memcached counts whole seconds, so a 1 s item may vanish at once.
      await backend.storeResult(short, "short-lived", 2000);
      await backend.storeResult(long, "long-lived", TTL);
      expect(await backend.getResult(short)).toBe("short-lived");
      const deadline = Date.now() + 8000;
      let expired = false;
      while (!expired && Date.now() < deadline) {
        await sleep(200);
        expired = ResultMissing.isInstance(
          await rejection(backend.getResult(short)).catch(() => undefined),
        );
      }
      expect(expired).toBe(true);
      expect(await backend.getResult(long)).toBe("long-lived");
    });

    it("stores what a Worker's actors return, and their failures once retries are exhausted", async () => {
      const { backend, track } = await setup();
      const broker = new StubBroker({
        middleware: [...defaultMiddleware(), new Results({ backend })],
        logger: recordingLogger(),
      });
      const queueName = `dqtest_${randomBytes(4).toString("hex")}`;
      const multiply = actor((x: number, y: number) => x * y, {
        actorName: "multiply",
        queueName,
        broker,
        storeResults: true,
      });
      const explode = actor(
        (what: string): number => {
          throw new QuotaExceeded(`no ${what}`);
        },
        { actorName: "explode", queueName, broker, storeResults: true, maxRetries: 0 },
      );
      const worker = new Worker(broker, { workerTimeout: 50 });
      await worker.start();
      try {
        const ok = track(await multiply.send(6, 7));
        const failed = track(await explode.send("luck"));
        expect(await ok.getResult({ backend, block: true, timeout: LONG_TIMEOUT })).toBe(42);
        const error = await rejection(
          failed.getResult({ backend, block: true, timeout: LONG_TIMEOUT }),
        );
        expect(ResultFailure.isInstance(error)).toBe(true);
        expect(error).toMatchObject({ origExcType: "QuotaExceeded", origExcMsg: "no luck" });
        await broker.join(queueName, { timeout: LONG_TIMEOUT, failFast: false });
      } finally {
        await worker.stop({ timeout: 5000 });
        await broker.close();
      }
    });
  });
}

/**
 * Asserts that a result backend pointed at a server that refuses connections fails quickly with a
 * `ConnectionError` naming `where`, for a read, a blocking read and a store — instead of hanging.
 */
export async function expectUnreachableResultBackend(
  backend: ResultBackend,
  where: string,
): Promise<void> {
  const message = () => new Message({ queueName: "dqtest", actorName: "add", args: [1, 2] });
  const started = Date.now();
  const attempts = [
    backend.getResult(message()),
    backend.getResult(message(), { block: true, timeout: 30_000 }),
    backend.storeResult(message(), 1, 60_000),
  ].map((attempt) => attempt.catch((caught: unknown) => caught));
  for (const attempt of attempts) {
    const error = await attempt;
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(where);
  }
  expect(Date.now() - started).toBeLessThan(10_000);
}
