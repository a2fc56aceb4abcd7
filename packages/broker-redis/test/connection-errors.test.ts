import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ConnectionFailed, Message } from "@dq/core";
import { recordingLogger } from "@dq/core/testing";
import { RedisBroker } from "../src/index.js";
import {
  deleteNamespaces,
  describeWithRedis,
  plainClient,
  redisUrl,
  uniqueNamespace,
} from "./helpers.js";

/** A free loopback port (closed again at once). */
async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function message(queueName: string): Message {
  return new Message({ queueName, actorName: "noop", args: [], kwargs: {}, options: {} });
}

/** The error one enqueue on `url` fails with. */
async function enqueueError(url: string, connectTimeout?: number): Promise<Error> {
  const broker = new RedisBroker({
    url,
    logger: recordingLogger(),
    ...(connectTimeout ? { connectTimeout } : {}),
  });
  broker.declareQueue("default");
  try {
    await broker.enqueue(message("default"));
  } catch (error) {
    return error as Error;
  } finally {
    await broker.close();
  }
  throw new Error(`enqueue on ${url} succeeded`);
}

describe("RedisBroker connection errors: four distinct messages naming host and port", () => {
  let redis: ChildProcess | undefined;
  let authPort = 0;
  let silent: net.Server | undefined;
  let silentPort = 0;
  const accepted: net.Socket[] = [];

  beforeAll(async () => {
    authPort = await freePort();
    redis = spawn(
      "redis-server",
      [
        "--port",
        String(authPort),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--requirepass",
        "s3cret-pw",
      ],
      { stdio: "ignore" },
    );
    // A server that accepts connections and never answers.
    silent = net.createServer((socket) => void accepted.push(socket)).listen(0, "127.0.0.1");
    await new Promise((resolve) => silent!.once("listening", resolve));
    silentPort = (silent.address() as net.AddressInfo).port;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const up = await new Promise<boolean>((resolve) => {
        const socket = net
          .connect(authPort, "127.0.0.1", () => resolve(true))
          .on("error", () => resolve(false));
        socket.unref();
        setTimeout(() => socket.destroy(), 100);
      });
      if (up) break;
      if (Date.now() > deadline)
        throw new Error(`the private redis-server on port ${authPort} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  afterAll(async () => {
    if (redis?.pid) redis.kill("SIGTERM");
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => (silent ? silent.close(resolve) : resolve(undefined)));
  });

  it("refused: a closed port", async () => {
    const port = await freePort();
    const error = await enqueueError(`redis://127.0.0.1:${port}`);
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect(error.message).toMatch(new RegExp(`^connection refused by 127\\.0\\.0\\.1:${port}\\b`));
    expect(error.message).not.toMatch(/maxRetriesPerRequest/);
  });

  it("authentication failed: a wrong password, masked", async () => {
    const error = await enqueueError(`redis://:wrong-pw@127.0.0.1:${authPort}`);
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect(error.message).toMatch(
      new RegExp(
        `^authentication failed at 127\\.0\\.0\\.1:${authPort} \\(redis://:\\*\\*\\*@127\\.0\\.0\\.1:${authPort}\\)`,
      ),
    );
    expect(error.message).not.toContain("wrong-pw");
    const missing = await enqueueError(`redis://127.0.0.1:${authPort}`);
    expect(missing.message).toMatch(
      new RegExp(`^authentication failed at 127\\.0\\.0\\.1:${authPort} .*: NOAUTH`),
    );
  });

  it("timed out: a server that accepts and never answers", async () => {
    const error = await enqueueError(`redis://127.0.0.1:${silentPort}`, 1000);
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect(error.message).toMatch(
      new RegExp(
        `^timed out connecting to 127\\.0\\.0\\.1:${silentPort}\\b.*no answer within 1000 ms`,
      ),
    );
  });

  it("unreachable: a host name that does not resolve", async () => {
    const error = await enqueueError("redis://dq-no-such-host.invalid:6390");
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect(error.message).toMatch(/^Redis host unreachable: dq-no-such-host\.invalid:6390\b/);
  });

  it("works with the right password", async () => {
    const broker = new RedisBroker({
      url: `redis://:s3cret-pw@127.0.0.1:${authPort}`,
      logger: recordingLogger(),
    });
    broker.declareQueue("default");
    try {
      await broker.enqueue(message("default"));
      expect((await broker.getQueueMessageCounts("default")).ready).toBe(1);
    } finally {
      await broker.close();
    }
  });
});

describeWithRedis("RedisBroker URL namespace", () => {
  const namespace = uniqueNamespace();
  afterAll(() => deleteNamespaces([namespace]));

  it("takes ?namespace= from the URL and keeps it out of the connection options", async () => {
    const url = new URL(redisUrl);
    url.searchParams.set("namespace", namespace);
    const broker = new RedisBroker({ url: url.toString(), logger: recordingLogger() });
    const redis = plainClient();
    try {
      expect(broker.namespace).toBe(namespace);
      broker.declareQueue("urlns");
      await broker.enqueue(message("urlns"));
      expect(await redis.llen(`${namespace}:urlns`)).toBe(1);
    } finally {
      await broker.close();
      redis.disconnect();
    }
  });

  it("names a bad namespace in the URL", () => {
    expect(
      () => new RedisBroker({ url: "redis://127.0.0.1:6379/0?namespace=a%20b", lazyConnect: true }),
    ).toThrow('invalid namespace "a b" in the Redis URL');
  });
});
