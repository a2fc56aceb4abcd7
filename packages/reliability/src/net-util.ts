import { createServer, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

/** Sends `request` to 127.0.0.1:port and returns the first reply bytes ("" when nothing answers). */
function probe(port: number, request: string | undefined, timeout: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = "";
    const done = () => {
      socket.destroy();
      resolve(reply);
    };
    socket.setTimeout(timeout, done);
    socket.on("error", done);
    socket.on("close", done);
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString();
      done();
    });
    socket.connect(port, "127.0.0.1", () => {
      if (request === undefined) done();
      else socket.write(request);
    });
  });
}

/**
 * Polls until `ready()` says yes.
 * @throws Error naming `what` after `timeout` ms
 */
export async function waitUntil(
  what: string,
  timeout: number,
  ready: () => Promise<boolean> | boolean,
  interval = 100,
): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await ready()) return;
    if (Date.now() >= deadline)
      throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}

/** Whether a Redis server on the port answers PING with PONG (not LOADING). */
export async function redisAnswers(port: number): Promise<boolean> {
  return (await probe(port, "PING\r\n", 1000)).startsWith("+PONG");
}

/** Whether an AMQP server on the port answers a protocol header (with its own header or Connection.Start). */
export async function amqpAnswers(port: number): Promise<boolean> {
  return (await probe(port, "AMQP\x00\x00\x09\x01", 2000)).length > 0;
}
