import { describe, expect, it } from "@jest/globals";
import { ConnectionFailed, InvalidOptionError } from "@dq/core";
import { RedisRateLimiterBackend } from "../src/redis.js";

describe("RedisRateLimiterBackend options (zod schema)", () => {
  it("rejects a url that is not a string with an InvalidOptionError naming option and value", () => {
    expect(() => new RedisRateLimiterBackend({ url: 6379 as unknown as string })).toThrow(
      InvalidOptionError,
    );
    expect(() => new RedisRateLimiterBackend({ url: 6379 as unknown as string })).toThrow(
      "invalid url 6379: expected a redis:// URL string",
    );
  });
});

describe("RedisRateLimiterBackend connection errors (shared policy)", () => {
  it("names a refused connection as such", async () => {
    const backend = new RedisRateLimiterBackend({ url: "redis://127.0.0.1:1" });
    try {
      const error = await backend
        .add("dq-r19-options-key", 1, 1000)
        .catch((caught: unknown) => caught);
      expect(ConnectionFailed.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain(
        "could not reach Redis at redis://127.0.0.1:1: connection refused by 127.0.0.1:1",
      );
    } finally {
      await backend.close();
    }
  });
});
