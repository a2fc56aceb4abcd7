import { randomBytes } from "node:crypto";
import { describe, expect, it } from "@jest/globals";
import { DecodeError, InvalidOptionError, Message } from "@dq/core";
import { expectUnreachableResultBackend } from "@dq/test-suite";
import { addressFromServers, describeWithServer, recordingLogger } from "@dq/core/testing";
import { MemcachedResultBackend } from "../src/index.js";
import { useMemcached } from "./fixtures.js";

const servers = process.env.MEMCACHED_SERVERS ?? "127.0.0.1:11211";

const newMessage = () => new Message({ queueName: "dqtest", actorName: "add", args: [1, 2] });

describe("MemcachedResultBackend without a server", () => {
  it("fails quickly with ConnectionError instead of hanging", async () => {
    // Port 1 on loopback refuses connections.
    const logger = recordingLogger();
    const backend = new MemcachedResultBackend({ servers: "127.0.0.1:1", logger });
    try {
      await expectUnreachableResultBackend(backend, "127.0.0.1:1");
      // memjs's own reports went to the logger, not the console.
      expect(logger.lines.length).toBeGreaterThan(0);
    } finally {
      await backend.close();
    }
  });
});

describe("MemcachedResultBackend options", () => {
  it("refuses options of the wrong type with InvalidOptionError naming the option and its value", () => {
    expect(() => new MemcachedResultBackend({ servers: 42 as never })).toThrow(InvalidOptionError);
    expect(() => new MemcachedResultBackend({ servers: 42 as never })).toThrow(
      /invalid servers 42: expected a "\[user:pass@\]host/,
    );
    expect(() => new MemcachedResultBackend({ namespace: 7 as never })).toThrow(
      /invalid namespace 7: expected a string/,
    );
    expect(() => new MemcachedResultBackend({ useNamespacePrefixKeys: "yes" as never })).toThrow(
      /invalid useNamespacePrefixKeys "yes": expected a boolean/,
    );
  });
});

describeWithServer("Memcached", addressFromServers(servers, 11211), () => {
  describe("MemcachedResultBackend on Memcached", () => {
    const memcached = useMemcached(servers, `dqtest-results-${randomBytes(6).toString("hex")}`);
    const { track } = memcached;

    it("stores the encoder's bytes under the key", async () => {
      const message = newMessage();
      const key = track(message);
      await memcached.backend.storeResult(message, { é: [1, null] }, 30_000);
      expect((await memcached.client.get(key)).value?.toString("utf8")).toBe(
        '{"\\u00e9":[1,null]}',
      );
    });

    it("keeps a result with a TTL over 30 days (sent as an absolute expiry)", async () => {
      const message = newMessage();
      track(message);
      await memcached.backend.storeResult(message, "kept", 40 * 24 * 3600 * 1000);
      expect(await memcached.backend.getResult(message)).toBe("kept");
    });

    it("throws a DecodeError naming the key when the stored value does not decode", async () => {
      const message = newMessage();
      const key = track(message);
      await memcached.client.set(key, "{not json", { expires: 30 });
      for (const options of [{}, { block: true, timeout: 5000 }]) {
        const error = await memcached.backend
          .getResult(message, options)
          .catch((caught: unknown) => caught);
        expect(DecodeError.isInstance(error)).toBe(true);
        expect((error as Error).message).toContain(key);
      }
    });

    it("uses a memcached.client passed in and leaves it open on close", async () => {
      const own = new MemcachedResultBackend({
        client: memcached.client,
        namespace: memcached.backend.namespace,
      });
      const message = newMessage();
      track(message);
      await own.storeResult(message, "via memcached.client", 30_000);
      await own.close();
      expect(await memcached.backend.getResult(message)).toBe("via memcached.client");
      expect(
        (await memcached.client.get(memcached.backend.buildMessageKey(message))).value?.toString(),
      ).toBe('"via memcached.client"');
    });
  });
});
