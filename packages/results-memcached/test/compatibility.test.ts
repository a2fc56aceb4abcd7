import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import memjs from "memjs";
import { Message, ResultFailure } from "@dq/core";
import { addressFromServers, describeWithServer } from "@dq/test-suite";
import { MemcachedResultBackend } from "../src/index.js";
import { loadFixture, type MemcachedResultsFixture } from "./fixtures.js";

const servers = process.env.MEMCACHED_SERVERS ?? "127.0.0.1:11211";
const fixture = loadFixture<MemcachedResultsFixture>("memcached-results.json");
const NAMESPACE = "dqfixtures-results";
const [ok, failed] = fixture.entries.map((entry) => ({ ...entry, message: Message.fromDict(entry.message) }));

class ValueError extends Error {}

describe("MemcachedResultBackend and Python Dramatiq's MemcachedBackend: keys", () => {
  it("computes the MD5 keys Python computed for the same messages", async () => {
    const backend = new MemcachedResultBackend({ servers, namespace: NAMESPACE });
    try {
      for (const entry of fixture.entries) expect(backend.buildMessageKey(Message.fromDict(entry.message))).toBe(entry.key);
    } finally {
      await backend.close();
    }
  });
});

describeWithServer("Memcached", addressFromServers(servers, 11211), () => {
  describe("MemcachedResultBackend and Python Dramatiq's MemcachedBackend: stored values", () => {
    let client: memjs.Client;
    let backend: MemcachedResultBackend;
    // Our own namespace, so that the recorded keys of other tests on this server are left alone.
    const namespace = `dqtest-results-compat-${process.pid}-${Date.now()}`;
    const keys: string[] = [];

    beforeAll(() => {
      client = memjs.Client.create(servers, { logger: { log: () => undefined } });
      backend = new MemcachedResultBackend({ servers, namespace });
    });

    afterAll(async () => {
      for (const key of keys) await client.delete(key);
      await backend.close();
      client.close();
    });

    async function writeRecorded(message: Message, raw: string): Promise<void> {
      const key = backend.buildMessageKey(message);
      keys.push(key);
      await client.set(key, raw, { expires: 60 });
    }

    it("reads a result Python stored", async () => {
      await writeRecorded(ok!.message, ok!.raw);
      expect(await backend.getResult(ok!.message)).toBe(42);
      expect(await backend.getResult(ok!.message, { block: true, timeout: 5000 })).toBe(42);
    });

    it("reads an exception envelope Python stored as ResultFailure", async () => {
      await writeRecorded(failed!.message, failed!.raw);
      for (const options of [{}, { block: true, timeout: 5000 }]) {
        const error = await backend.getResult(failed!.message, options).catch((caught: unknown) => caught);
        expect(ResultFailure.isInstance(error)).toBe(true);
        expect(error).toMatchObject({ origExcType: "ValueError", origExcMsg: "bad m", message: "actor raised ValueError: bad m" });
      }
    });

    it("stores byte-for-byte what Python stored for the same result and the same failure", async () => {
      keys.push(backend.buildMessageKey(ok!.message), backend.buildMessageKey(failed!.message));
      await backend.storeResult(ok!.message, 42, 60_000);
      await backend.storeException(failed!.message, new ValueError("bad m"), 60_000);
      for (const entry of [ok!, failed!]) {
        const { value } = await client.get(backend.buildMessageKey(entry.message));
        expect(value).toEqual(Buffer.from(entry.raw, "utf8"));
      }
    });
  });
});
