import { describe, expect, it, beforeAll, afterAll } from "@jest/globals";
import { Redis } from "ioredis";
import { Message, ResultFailure } from "@dq/core";
import { addressFromUrl, describeWithServer } from "@dq/core/testing";
import { RedisResultBackend } from "../src/index.js";
import { loadFixture, type RedisAfterWorkerFixture } from "./fixtures.js";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const fixture = loadFixture<RedisAfterWorkerFixture>("redis-after-worker.json");
const NAMESPACE = "dqfixtures-results";

class ValueError extends Error {}

/** The message Python ran, rebuilt from the plain key `namespace:queue:actor:id`. */
function recordedMessage(which: "ok" | "failed"): Message {
  const [, queueName, actorName, messageId] = fixture.result_key_plain[which].split(":");
  expect(messageId).toBe(fixture.message_ids[which]);
  return new Message({ queueName: queueName!, actorName: actorName!, messageId, args: [] });
}

describe("RedisResultBackend and Python Dramatiq's RedisBackend: keys", () => {
  it("computes the MD5 keys Python computed for the same messages", () => {
    const backend = new RedisResultBackend({ url, namespace: NAMESPACE });
    const plain = new RedisResultBackend({
      url,
      namespace: NAMESPACE,
      useNamespacePrefixKeys: true,
    });
    for (const which of ["ok", "failed"] as const) {
      expect(backend.buildMessageKey(recordedMessage(which))).toBe(fixture.result_keys[which]);
      expect(plain.buildMessageKey(recordedMessage(which))).toBe(fixture.result_key_plain[which]);
    }
  });
});

describeWithServer("Redis", addressFromUrl(url, 6379), () => {
  describe("RedisResultBackend and Python Dramatiq's RedisBackend: stored values", () => {
    let redis: Redis;
    let backend: RedisResultBackend;
    // Our own namespace, so that the recorded keys of other tests on this server are left alone.
    const namespace = `dqtest-results-compat-${process.pid}-${Date.now()}`;
    const keys: string[] = [];

    beforeAll(() => {
      redis = new Redis(url);
      backend = new RedisResultBackend({ url, namespace });
    });

    afterAll(async () => {
      if (keys.length) await redis.del(...keys);
      await backend.close();
      redis.disconnect();
    });

    /** Writes a recorded value exactly as Python's backend left it: a one-element list. */
    async function writeRecorded(message: Message, value: string): Promise<string> {
      const key = backend.buildMessageKey(message);
      keys.push(key);
      await redis.multi().del(key).lpush(key, value).pexpire(key, 60_000).exec();
      return key;
    }

    it("reads a result Python stored", async () => {
      const message = recordedMessage("ok");
      await writeRecorded(message, fixture.results.ok[0]!);
      expect(await backend.getResult(message)).toBe(5);
      expect(await backend.getResult(message, { block: true, timeout: 5000 })).toBe(5);
    });

    it("reads an exception envelope Python stored as ResultFailure", async () => {
      const message = recordedMessage("failed");
      await writeRecorded(message, fixture.results.failed[0]!);
      for (const options of [{}, { block: true, timeout: 5000 }]) {
        const error = await backend.getResult(message, options).catch((caught: unknown) => caught);
        expect(ResultFailure.isInstance(error)).toBe(true);
        expect(error).toMatchObject({
          origExcType: "ValueError",
          origExcMsg: "bad input",
          message: "actor raised ValueError: bad input",
        });
      }
    });

    it("stores byte-for-byte what Python stored for the same result and the same failure", async () => {
      const ok = recordedMessage("ok");
      const failed = recordedMessage("failed");
      keys.push(backend.buildMessageKey(ok), backend.buildMessageKey(failed));
      await backend.storeResult(ok, 5, 60_000);
      await backend.storeException(failed, new ValueError("bad input"), 60_000);
      for (const [message, recorded] of [
        [ok, fixture.results.ok],
        [failed, fixture.results.failed],
      ] as const) {
        const key = backend.buildMessageKey(message);
        expect(await redis.type(key)).toBe("list");
        const stored = await redis.lrangeBuffer(key, 0, -1);
        expect(stored).toEqual(recorded.map((value) => Buffer.from(value, "utf8")));
      }
    });
  });
});
