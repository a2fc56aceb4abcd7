import { afterEach, beforeEach, expect, it } from "@jest/globals";
import { ConnectionError, Message } from "@dq/core";
import {
  addressFromUrl,
  describeWithServer,
  PrivateRedis,
  recordingLogger,
} from "@dq/core/testing";
import { RedisResultBackend } from "../src/index.js";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

// Issue 17 item 6: a paused Redis (SIGSTOP: the connection stays open, nothing answers) hung calls.
describeWithServer("Redis", addressFromUrl(url, 6379), () => {
  let server: PrivateRedis;

  beforeEach(async () => {
    server = await PrivateRedis.start();
  }, 30_000);

  afterEach(async () => {
    await server.destroy();
  });

  it("fails a store on a paused Redis with ConnectionError within the command timeout", async () => {
    const backend = new RedisResultBackend({
      url: server.url,
      commandTimeout: 1000,
      logger: recordingLogger(),
    });
    const message = new Message({ queueName: "dqtest", actorName: "add", args: [1, 2] });
    try {
      await backend.storeResult(message, 3, 60_000);
      server.pause();
      const started = Date.now();
      const error = await backend.storeResult(message, 4, 60_000).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(ConnectionError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/Command timed out/);
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      server.resume();
      await backend.close();
    }
  }, 30_000);

  it("times commands out after 5 s by default", async () => {
    const backend = new RedisResultBackend({ url: server.url });
    try {
      expect(backend.client.options.commandTimeout).toBe(5000);
    } finally {
      await backend.close();
    }
  });
});
