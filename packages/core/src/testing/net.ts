import { connect, createServer } from "node:net";

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Connects to 127.0.0.1:`port` on a fresh socket and sends `request` (nothing when undefined).
 * @returns whether the connection was accepted, and the first bytes of the reply ("" when none
 *   came within `timeout` ms, or the request was undefined)
 */
function probe(
  port: number,
  request: string | undefined,
  timeout: number,
): Promise<{ open: boolean; reply: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let open = false;
    const done = (reply: string) => {
      socket.destroy();
      resolve({ open, reply });
    };
    socket.setTimeout(timeout, () => done(""));
    socket.once("error", () => done(""));
    socket.once("close", () => done(""));
    socket.once("data", (chunk: Buffer) => done(chunk.toString("latin1")));
    socket.once("connect", () => {
      open = true;
      if (request === undefined) done("");
      else socket.write(request);
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export async function portOpen(port: number): Promise<boolean> {
  return (await probe(port, undefined, 2000)).open;
}

/** Whether a Redis server on 127.0.0.1:`port` answers PING with PONG (not LOADING, nor nothing). */
export async function redisAnswers(port: number): Promise<boolean> {
  return (await probe(port, "PING\r\n", 2000)).reply.startsWith("+PONG");
}

/** Whether an AMQP server on 127.0.0.1:`port` answers a protocol header (with anything). */
export async function amqpAnswers(port: number): Promise<boolean> {
  return (await probe(port, "AMQP\x00\x00\x09\x01", 2000)).reply.length > 0;
}
