import { describe, expect, it } from "@jest/globals";
import { Message, ResultFailure } from "@dq/core";
import { addressFromServers, describeWithServer } from "@dq/core/testing";
import { MemcachedResultBackend } from "../src/index.js";
import { loadFixture, useMemcached, type MemcachedResultsFixture } from "./fixtures.js";

const servers = process.env.MEMCACHED_SERVERS ?? "127.0.0.1:11211";
const fixture = loadFixture<MemcachedResultsFixture>("memcached-results.json");
const NAMESPACE = "dqfixtures-results";
const [ok, failed] = fixture.entries.map((entry) => ({
  ...entry,
  message: Message.fromDict(entry.message),
}));

class ValueError extends Error {}

describe("MemcachedResultBackend and Python Dramatiq's MemcachedBackend: keys", () => {
  it("computes the MD5 keys Python computed for the same messages", async () => {
    const backend = new MemcachedResultBackend({ servers, namespace: NAMESPACE });
    try {
      for (const entry of fixture.entries)
        expect(backend.buildMessageKey(Message.fromDict(entry.message))).toBe(entry.key);
    } finally {
      await backend.close();
    }
  });
});

describeWithServer("Memcached", addressFromServers(servers, 11211), () => {
  describe("MemcachedResultBackend and Python Dramatiq's MemcachedBackend: stored values", () => {
    // Our own namespace, so that the recorded keys of other tests on this server are left alone.
    const memcached = useMemcached(servers, `dqtest-results-compat-${process.pid}-${Date.now()}`);

    async function writeRecorded(message: Message, raw: string): Promise<void> {
      await memcached.client.set(memcached.track(message), raw, { expires: 60 });
    }

    it("reads a result Python stored", async () => {
      await writeRecorded(ok!.message, ok!.raw);
      expect(await memcached.backend.getResult(ok!.message)).toBe(42);
      expect(await memcached.backend.getResult(ok!.message, { block: true, timeout: 5000 })).toBe(
        42,
      );
    });

    it("reads an exception envelope Python stored as ResultFailure", async () => {
      await writeRecorded(failed!.message, failed!.raw);
      for (const options of [{}, { block: true, timeout: 5000 }]) {
        const error = await memcached.backend
          .getResult(failed!.message, options)
          .catch((caught: unknown) => caught);
        expect(ResultFailure.isInstance(error)).toBe(true);
        expect(error).toMatchObject({
          origExcType: "ValueError",
          origExcMsg: "bad m",
          message: "actor raised ValueError: bad m",
        });
      }
    });

    it("stores byte-for-byte what Python stored for the same result and the same failure", async () => {
      memcached.track(ok!.message);
      memcached.track(failed!.message);
      await memcached.backend.storeResult(ok!.message, 42, 60_000);
      await memcached.backend.storeException(failed!.message, new ValueError("bad m"), 60_000);
      for (const entry of [ok!, failed!]) {
        const { value } = await memcached.client.get(
          memcached.backend.buildMessageKey(entry.message),
        );
        expect(value).toEqual(Buffer.from(entry.raw, "utf8"));
      }
    });
  });
});
