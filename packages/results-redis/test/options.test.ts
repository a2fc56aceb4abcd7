import { describe, expect, it } from "@jest/globals";
import { ConnectionFailed, InvalidOptionError, Message } from "@dq/core";
import { recordingLogger } from "@dq/core/testing";
import { RedisResultBackend } from "../src/index.js";

describe("RedisResultBackend options (zod schema)", () => {
  it("rejects a bad maxIdleBlockingConnections with an InvalidOptionError naming option and value", () => {
    expect(() => new RedisResultBackend({ maxIdleBlockingConnections: -1 })).toThrow(
      InvalidOptionError,
    );
    expect(() => new RedisResultBackend({ maxIdleBlockingConnections: 1.5 })).toThrow(
      "invalid maxIdleBlockingConnections 1.5: expected an integer >= 0",
    );
  });

  it("rejects a url that is not a string", () => {
    expect(() => new RedisResultBackend({ url: 6379 as unknown as string })).toThrow(
      "invalid url 6379: expected a redis:// URL string",
    );
  });
});

describe("RedisResultBackend connection errors (shared policy)", () => {
  it("names a refused connection as such", async () => {
    // Port 1 on loopback refuses connections.
    const backend = new RedisResultBackend({
      url: "redis://127.0.0.1:1",
      logger: recordingLogger(),
    });
    try {
      const error = await backend
        .getResult(new Message({ queueName: "dqtest", actorName: "add", args: [1] }))
        .catch((caught: unknown) => caught);
      expect(ConnectionFailed.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain(
        "could not connect to Redis at 127.0.0.1:1: connection refused by 127.0.0.1:1",
      );
    } finally {
      await backend.close();
    }
  });
});
