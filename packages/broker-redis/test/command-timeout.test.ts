import { afterEach, beforeEach, expect, it } from "@jest/globals";
import { actor, ConnectionClosed, ConnectionError } from "@dq/core";
import { PrivateRedis, recordingLogger } from "@dq/core/testing";
import { DEFAULT_COMMAND_TIMEOUT, RedisBroker } from "../src/index.js";
import { describeWithRedis, uniqueNamespace } from "./helpers.js";

// Issue 17 item 6: a paused Redis (SIGSTOP: connections open, no replies) made send() hang forever.
describeWithRedis("RedisBroker command timeout", () => {
  let server: PrivateRedis;

  beforeEach(async () => {
    server = await PrivateRedis.start();
  }, 30_000);

  afterEach(async () => {
    await server.destroy();
  });

  it("makes send() reject with ConnectionClosed within the timeout when Redis is paused", async () => {
    const broker = new RedisBroker({
      url: server.url,
      namespace: uniqueNamespace(),
      commandTimeout: 1000,
      logger: recordingLogger(),
    });
    const work = actor(function pausedWork() {}, { broker, queueName: "paused" });
    try {
      await work.send(); // connected, script loaded
      server.pause();
      const started = Date.now();
      const error = await work.send().then(
        () => undefined,
        (reason: unknown) => reason,
      );
      const elapsed = Date.now() - started;
      expect(ConnectionError.isInstance(error)).toBe(true);
      expect(error).toBeInstanceOf(ConnectionClosed);
      expect((error as Error).message).toMatch(/did not answer within 1000 ms \(commandTimeout\)/);
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(4000);
      server.resume();
      await work.send(); // the connection is still usable
    } finally {
      server.resume();
      await broker.close();
    }
  }, 30_000);

  it("defaults to 5 s, and 0 means no timeout", async () => {
    const broker = new RedisBroker({ url: server.url, lazyConnect: true });
    const unlimited = new RedisBroker({ url: server.url, lazyConnect: true, commandTimeout: 0 });
    try {
      expect(DEFAULT_COMMAND_TIMEOUT).toBe(5000);
      expect(broker.client.options.commandTimeout).toBe(5000);
      expect(unlimited.client.options.commandTimeout).toBeUndefined();
      expect(
        () => new RedisBroker({ url: server.url, lazyConnect: true, commandTimeout: -1 }),
      ).toThrow(/invalid commandTimeout -1/);
    } finally {
      await broker.close();
      await unlimited.close();
    }
  });
});
