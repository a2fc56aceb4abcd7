import net from "node:net";
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { ConnectionFailed, Message } from "@dq/core";
import { recordingLogger } from "@dq/core/testing";
import { RabbitmqBroker } from "../src/index.js";
import { AMQP_URL, describeRabbit } from "./helpers.js";

/** The error one enqueue on `url` fails with (one attempt, short timeout). */
async function enqueueError(url: string): Promise<Error> {
  const broker = new RabbitmqBroker({
    url,
    logger: recordingLogger(),
    connectionAttempts: 1,
    connectTimeout: 1000,
  });
  broker.declareQueue("dq_connection_errors");
  try {
    await broker.enqueue(
      new Message({ queueName: "dq_connection_errors", actorName: "noop", args: [] }),
    );
  } catch (error) {
    return error as Error;
  } finally {
    await broker.close();
  }
  throw new Error(`enqueue on ${url} succeeded`);
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describeRabbit(
  "RabbitmqBroker connection errors: four distinct messages naming host and port",
  () => {
    let silent: net.Server;
    let silentPort = 0;
    const accepted: net.Socket[] = [];

    beforeAll(async () => {
      // A server that accepts connections and never answers.
      silent = net.createServer((socket) => void accepted.push(socket)).listen(0, "127.0.0.1");
      await new Promise((resolve) => silent.once("listening", resolve));
      silentPort = (silent.address() as net.AddressInfo).port;
    });

    afterAll(async () => {
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it("refused: a closed port", async () => {
      const port = await freePort();
      const error = await enqueueError(`amqp://guest:guest@127.0.0.1:${port}`);
      expect(error).toBeInstanceOf(ConnectionFailed);
      expect(error.message).toMatch(
        new RegExp(`^connection refused by 127\\.0\\.0\\.1:${port} \\(amqp://guest:\\*\\*\\*@`),
      );
    });

    it("authentication failed: a wrong password, masked", async () => {
      const url = new URL(AMQP_URL);
      url.password = "dq-wrong-password";
      const error = await enqueueError(url.toString());
      expect(error).toBeInstanceOf(ConnectionFailed);
      expect(error.message).toMatch(
        new RegExp(
          `^authentication failed at ${url.hostname.replace(/\./g, "\\.")}:${url.port || 5672} `,
        ),
      );
      expect(error.message).not.toContain("dq-wrong-password");
    });

    it("timed out: a server that accepts and never answers", async () => {
      const error = await enqueueError(`amqp://guest:guest@127.0.0.1:${silentPort}`);
      expect(error).toBeInstanceOf(ConnectionFailed);
      expect(error.message).toMatch(
        new RegExp(
          `^timed out connecting to 127\\.0\\.0\\.1:${silentPort} .*no answer within 1000 ms`,
        ),
      );
    });

    it("unreachable: a host name that does not resolve", async () => {
      const error = await enqueueError("amqp://guest:guest@dq-no-such-host.invalid:5690");
      expect(error).toBeInstanceOf(ConnectionFailed);
      expect(error.message).toMatch(/^RabbitMQ host unreachable: dq-no-such-host\.invalid:5690 /);
    });
  },
);
