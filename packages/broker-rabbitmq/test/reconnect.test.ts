import net from "node:net";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "@jest/globals";
import { ConnectionFailed, InvalidOptionError, Message, Worker, actor } from "@dq/core";
import { recordingLogger } from "@dq/core/testing";
import { RabbitmqBroker } from "../src/index.js";
import { reconnectDelay } from "../src/amqp-link.js";
import { AMQP_URL, deleteQueues, describeRabbit, readyCount, uniqueName } from "./helpers.js";

const cleanups: (() => Promise<unknown>)[] = [];

/** A loopback port nothing listens on (connections to it are refused). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The delays logged by the broker's reconnect loop, in order. */
function loggedDelays(lines: readonly string[]): number[] {
  return lines.flatMap((line) => {
    const match = /reconnecting in (\d+) ms/.exec(line);
    return match ? [Number(match[1])] : [];
  });
}

describe("reconnectDelay", () => {
  it("doubles from the minimum to the maximum, jittered within the upper half", () => {
    const low = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((round) =>
      reconnectDelay(round, { min: 100, max: 10_000, random: () => 0 }),
    );
    const high = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((round) =>
      reconnectDelay(round, { min: 100, max: 10_000, random: () => 0.999_999 }),
    );
    expect(low).toEqual([50, 100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(high).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
    expect(reconnectDelay(5000, { min: 100, max: 10_000 })).toBeLessThanOrEqual(10_000);
  });

  it("rejects timing options that are not positive numbers, naming the value", () => {
    expect(() => new RabbitmqBroker({ minRetryDelay: -1 })).toThrow(InvalidOptionError);
    expect(() => new RabbitmqBroker({ maxRetryDelay: "abc" as never })).toThrow(
      /invalid maxRetryDelay "abc"/,
    );
    expect(() => new RabbitmqBroker({ connectionWait: Number.NaN })).toThrow(
      /invalid connectionWait NaN/,
    );
    expect(() => new RabbitmqBroker({ connectionAttempts: 0 })).toThrow(
      /invalid connectionAttempts 0/,
    );
    expect(() => new RabbitmqBroker({ minRetryDelay: 500, maxRetryDelay: 100 })).toThrow(
      /invalid minRetryDelay 500: greater than maxRetryDelay 100/,
    );
  });
});

describeRabbit("RabbitmqBroker: reconnecting", () => {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  });

  it("backs off with growing, logged delays and gives up after connectionWait with ConnectionFailed", async () => {
    const port = await closedPort();
    const logger = recordingLogger();
    const rabbit = new RabbitmqBroker({
      url: `amqp://guest:guest@127.0.0.1:${port}`,
      logger,
      minRetryDelay: 20,
      maxRetryDelay: 640,
      connectionWait: 3000,
    });
    cleanups.unshift(() => rabbit.close());
    const queueName = uniqueName("dqbackoff");
    rabbit.declareQueue(queueName);
    const started = Date.now();
    const failure = await rabbit.enqueue(new Message({ queueName, actorName: "x" })).then(
      () => undefined,
      (error: unknown) => error,
    );
    const elapsed = Date.now() - started;
    expect(ConnectionFailed.isInstance(failure)).toBe(true);
    expect((failure as Error).message).toContain(`127.0.0.1:${port}`);
    expect((failure as Error).message).toContain("connectionWait 3000 ms");
    // It kept trying for the whole wait, not ~5 ms.
    expect(elapsed).toBeGreaterThanOrEqual(2500);
    expect(elapsed).toBeLessThan(15_000);
    const delays = loggedDelays(logger.lines);
    expect(delays.length).toBeGreaterThanOrEqual(5);
    // Below the cap each delay is at least the one before (the lower bound doubles); all within bounds.
    const uncapped = delays.slice(0, 5);
    expect(uncapped).toEqual([...uncapped].sort((a, b) => a - b));
    expect(delays.at(-1)!).toBeGreaterThanOrEqual(4 * delays[0]!);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(10);
      expect(delay).toBeLessThanOrEqual(640);
    }
    expect(
      logger.lines
        .filter((line) => line.includes("reconnecting in"))
        .every((line) => line.startsWith("warn")),
    ).toBe(true);
  });

  it("stops a worker at once while its consumers still wait for an unreachable server", async () => {
    const port = await closedPort();
    const logger = recordingLogger();
    const rabbit = new RabbitmqBroker({
      url: `amqp://guest:guest@127.0.0.1:${port}`,
      logger,
      connectionWait: 30_000,
    });
    cleanups.unshift(() => rabbit.close());
    const queueName = uniqueName("dqstopdown");
    actor(() => undefined, { broker: rabbit, queueName, actorName: "noop" });
    const worker = new Worker(rabbit, { concurrency: 2, workerTimeout: 100, logger });
    await worker.start();
    // Let the consumers start waiting for a connection (and the link back off a few times).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(loggedDelays(logger.lines).length).toBeGreaterThanOrEqual(1);
    const started = Date.now();
    await worker.stop({ timeout: 2000 });
    await rabbit.close();
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("holds a send through a short outage and delivers it once the server answers again", async () => {
    const port = await closedPort();
    const queueName = uniqueName("dqoutage");
    cleanups.push(() => deleteQueues([queueName]));
    const logger = recordingLogger();
    const rabbit = new RabbitmqBroker({
      url: `amqp://guest:guest@127.0.0.1:${port}`,
      logger,
      minRetryDelay: 50,
      maxRetryDelay: 400,
      connectionWait: 20_000,
    });
    cleanups.unshift(() => rabbit.close());
    rabbit.declareQueue(queueName);
    const sending = rabbit.enqueue(new Message({ queueName, actorName: "x", args: [1] }));
    // The server "comes back" after a second: a TCP relay to RabbitMQ on the refused port.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const target = new URL(AMQP_URL);
    const sockets = new Set<net.Socket>();
    const relay = net.createServer((client) => {
      const upstream = net.connect(Number(target.port) || 5672, target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on("error", () => undefined);
        socket.on("close", () => sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
    });
    relay.listen(port, "127.0.0.1");
    await once(relay, "listening");
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => relay.close(resolve));
    });
    await sending;
    expect(loggedDelays(logger.lines).length).toBeGreaterThanOrEqual(2);
    await rabbit.close();
    expect(await readyCount(queueName)).toBe(1);
  });
});
