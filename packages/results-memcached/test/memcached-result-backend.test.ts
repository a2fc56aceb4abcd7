import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import memjs from "memjs";
import { ConnectionError, DecodeError, Message } from "@dq/core";
import { addressFromServers, describeWithServer, recordingLogger } from "@dq/test-suite";
import { MemcachedResultBackend } from "../src/index.js";

const servers = process.env.MEMCACHED_SERVERS ?? "127.0.0.1:11211";

const newMessage = () => new Message({ queueName: "dqtest", actorName: "add", args: [1, 2] });

describe("MemcachedResultBackend without a server", () => {
  it("fails quickly with ConnectionError instead of hanging", async () => {
    // Port 1 on loopback refuses connections.
    const logger = recordingLogger();
    const backend = new MemcachedResultBackend({ servers: "127.0.0.1:1", logger });
    try {
      const started = Date.now();
      const attempts = [
        backend.getResult(newMessage()),
        backend.getResult(newMessage(), { block: true, timeout: 30_000 }),
        backend.storeResult(newMessage(), 1, 60_000),
      ].map((attempt) => attempt.catch((caught: unknown) => caught));
      for (const attempt of attempts) {
        const error = await attempt;
        expect(ConnectionError.isInstance(error)).toBe(true);
        expect((error as Error).message).toContain("127.0.0.1:1");
      }
      expect(Date.now() - started).toBeLessThan(10_000);
      // memjs's own reports went to the logger, not the console.
      expect(logger.lines.length).toBeGreaterThan(0);
    } finally {
      await backend.close();
    }
  });
});

describeWithServer("Memcached", addressFromServers(servers, 11211), () => {
  describe("MemcachedResultBackend on Memcached", () => {
    let client: memjs.Client;
    let backend: MemcachedResultBackend;
    const namespace = `dqtest-results-${randomBytes(6).toString("hex")}`;
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

    const track = (message: Message) => {
      const key = backend.buildMessageKey(message);
      keys.push(key);
      return key;
    };

    it("stores the encoder's bytes under the key", async () => {
      const message = newMessage();
      const key = track(message);
      await backend.storeResult(message, { "é": [1, null] }, 30_000);
      expect((await client.get(key)).value?.toString("utf8")).toBe('{"\\u00e9":[1,null]}');
    });

    it("keeps a result with a TTL over 30 days (sent as an absolute expiry)", async () => {
      const message = newMessage();
      track(message);
      await backend.storeResult(message, "kept", 40 * 24 * 3600 * 1000);
      expect(await backend.getResult(message)).toBe("kept");
    });

    it("throws a DecodeError naming the key when the stored value does not decode", async () => {
      const message = newMessage();
      const key = track(message);
      await client.set(key, "{not json", { expires: 30 });
      for (const options of [{}, { block: true, timeout: 5000 }]) {
        const error = await backend.getResult(message, options).catch((caught: unknown) => caught);
        expect(DecodeError.isInstance(error)).toBe(true);
        expect((error as Error).message).toContain(key);
      }
    });

    it("uses a client passed in and leaves it open on close", async () => {
      const own = new MemcachedResultBackend({ client, namespace });
      const message = newMessage();
      track(message);
      await own.storeResult(message, "via client", 30_000);
      await own.close();
      expect(await backend.getResult(message)).toBe("via client");
      expect((await client.get(backend.buildMessageKey(message))).value?.toString()).toBe('"via client"');
    });
  });
});
