// A private RabbitMQ node with a TLS listener (a test CA made with openssl, client certificates
// required) and `consumer_timeout` set to 5 s, checked every second: delayed messages past the
// timeout, and TLS with its failures.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { actor, ConnectionFailed, Worker } from "@dq/core";
import {
  createTestCertificates,
  PrivateRabbitmqCluster,
  recordingLogger,
  rejection,
  uniqueQueueName,
  waitFor,
  type PrivateRabbitmqNode,
  type TestCertificates,
} from "@dq/core/testing";
import { RabbitmqBroker } from "../src/index.js";

const CONSUMER_TIMEOUT = 5000;
const DELAY = 12_000;

let cluster: PrivateRabbitmqCluster | undefined;
let node: PrivateRabbitmqNode;
let pki: TestCertificates;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  pki = createTestCertificates();
  cluster = await PrivateRabbitmqCluster.start("t", 1, {
    tls: true,
    conf: (n) => [
      `listeners.ssl.default = 127.0.0.1:${n.tlsPort}`,
      `ssl_options.cacertfile = ${pki.caFile}`,
      `ssl_options.certfile = ${pki.certFile}`,
      `ssl_options.keyfile = ${pki.keyFile}`,
      "ssl_options.verify = verify_peer",
      "ssl_options.fail_if_no_peer_cert = true",
      `consumer_timeout = ${CONSUMER_TIMEOUT}`,
    ],
    // The server checks consumer timeouts on its channel tick (default once a minute).
    advanced: ["{channel_tick_interval, 1000}"],
  });
  node = cluster.nodes[0]!;
}, 180_000);

afterAll(async () => {
  await cluster?.destroy();
  pki?.remove();
}, 60_000);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
});

/** Runs `count` messages delayed by `DELAY` through a worker; returns when all ran (or after `wait`). */
async function runDelayed(consumerTimeout: number, wait: number, count = 1) {
  const logger = recordingLogger();
  const queueName = uniqueQueueName("harabbit-delay");
  const broker = new RabbitmqBroker({ url: node.url, logger, consumerTimeout });
  cleanups.push(() => broker.close());
  const runs: number[] = [];
  const runsOf = new Map<number, number>();
  const due = actor(
    function dueLater(index: number) {
      runs.push(Date.now());
      runsOf.set(index, (runsOf.get(index) ?? 0) + 1);
    },
    { broker, queueName },
  );
  const worker = new Worker(broker, { workerTimeout: 100, restartDelay: 200 });
  cleanups.unshift(() => worker.stop({ timeout: 5000 }));
  await worker.start();
  const sent = Date.now();
  for (let i = 0; i < count; i++) await due.sendWithOptions({ args: [i], delay: DELAY });
  const eta = sent + DELAY;
  await waitFor(
    () => runs.length >= count || Date.now() > sent + wait,
    "the delayed messages",
    wait + 5000,
  );
  return { logger, runs, runsOf, eta, broker, queueName };
}

describe("delayed messages past consumer_timeout (private node, consumer_timeout 5 s)", () => {
  it("re-publishes delayed messages before the timeout: each runs once, on time", async () => {
    const count = 20;
    const { logger, runs, runsOf, eta } = await runDelayed(CONSUMER_TIMEOUT, DELAY + 20_000, count);
    expect(runs).toHaveLength(count);
    // On time: not before the eta of the first, and (on this loaded machine) within 5 s after it.
    expect(Math.min(...runs)).toBeGreaterThanOrEqual(eta);
    expect(Math.max(...runs) - eta).toBeLessThan(5000);
    // Still once each a few seconds later, and the server never closed the channel.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(runs).toHaveLength(count);
    expect([...runsOf.entries()].sort(([a], [b]) => a - b)).toEqual(
      Array.from({ length: count }, (_, i) => [i, 1]),
    );
    const lines = logger.lines.join("\n");
    expect(lines).toMatch(/Re-published delayed message/);
    expect(lines).not.toMatch(/PRECONDITION_FAILED|channel of the consumer .* failed/);
  }, 60_000);

  it("without it (dq told the timeout is an hour) the server closes the channel over the held message", async () => {
    const { logger } = await runDelayed(3_600_000, 9000);
    expect(logger.lines.join("\n")).toMatch(/PRECONDITION_FAILED|acknowledgement timed out/i);
  }, 60_000);
});

describe("TLS (private node with a test CA, client certificates required)", () => {
  const tlsUrl = () => `amqps://guest:guest@127.0.0.1:${node.tlsPort}`;
  const fast = { connectionAttempts: 1, connectionWait: 10_000, connectTimeout: 8000 };

  it("sends and runs a message over amqps:// with the CA and a client certificate", async () => {
    const logger = recordingLogger();
    const queueName = uniqueQueueName("harabbit-tls");
    const broker = new RabbitmqBroker({
      url: tlsUrl(),
      logger,
      tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
    });
    cleanups.push(() => broker.close());
    const seen: number[] = [];
    const echo = actor(
      function tlsEcho(x: number) {
        seen.push(x);
      },
      { broker, queueName },
    );
    const worker = new Worker(broker, { workerTimeout: 100 });
    cleanups.unshift(() => worker.stop({ timeout: 5000 }));
    await worker.start();
    await echo.send(7);
    await waitFor(() => seen.length === 1, "the message over TLS", 20_000);
    expect(seen).toEqual([7]);
  });

  it("a wrong CA fails with a clear error naming the host", async () => {
    const broker = new RabbitmqBroker({
      url: tlsUrl(),
      ...fast,
      logger: recordingLogger(),
      tls: { ca: pki.otherCa, cert: pki.clientCert, key: pki.clientKey },
    });
    cleanups.push(() => broker.close());
    const error = await rejection(broker.enqueueRaw(uniqueQueueName("harabbit-tls"), "x"));
    expect(ConnectionFailed.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(`127.0.0.1:${node.tlsPort}`);
    expect((error as Error).message).toMatch(/TLS: could not verify the certificate.*tls\.ca/);
  });

  it("a wrong server name fails with a clear error naming the host", async () => {
    const broker = new RabbitmqBroker({
      url: tlsUrl(),
      ...fast,
      logger: recordingLogger(),
      tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, servername: "rabbit.example" },
    });
    cleanups.push(() => broker.close());
    const error = await rejection(broker.enqueueRaw(uniqueQueueName("harabbit-tls"), "x"));
    expect((error as Error).message).toContain(`127.0.0.1:${node.tlsPort}`);
    expect((error as Error).message).toMatch(/does not name that host.*rabbit\.example/);
  });

  it("without a client certificate the server refuses the handshake; the password is never shown", async () => {
    const logger = recordingLogger();
    const secret = "harabbit-s3cret";
    const broker = new RabbitmqBroker({
      url: `amqps://guest:${secret}@127.0.0.1:${node.tlsPort}`,
      ...fast,
      logger,
      tls: { ca: pki.ca },
    });
    cleanups.push(() => broker.close());
    const error = await rejection(broker.enqueueRaw(uniqueQueueName("harabbit-tls"), "x"));
    expect((error as Error).message).toContain(`127.0.0.1:${node.tlsPort}`);
    expect((error as Error).message).not.toContain(secret);
    expect(logger.lines.join("\n")).not.toContain(secret);
  });

  it("a wrong password over TLS is an authentication error that does not show the password", async () => {
    const logger = recordingLogger();
    const secret = "harabbit-wr0ng";
    const broker = new RabbitmqBroker({
      url: `amqps://guest:${secret}@127.0.0.1:${node.tlsPort}`,
      ...fast,
      logger,
      tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
    });
    cleanups.push(() => broker.close());
    const error = await rejection(broker.enqueueRaw(uniqueQueueName("harabbit-tls"), "x"));
    expect((error as Error).message).toMatch(/authentication failed at 127\.0\.0\.1:\d+/);
    expect((error as Error).message).not.toContain(secret);
    expect(logger.lines.join("\n")).not.toContain(secret);
  });
});
