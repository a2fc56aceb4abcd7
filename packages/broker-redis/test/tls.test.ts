import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { actor, ConnectionFailed, Worker } from "@dq/core";
import {
  createTestCertificates,
  freePort,
  PrivateRedis,
  recordingLogger,
  rejection,
  type TestCertificates,
} from "@dq/core/testing";
import { RedisBroker } from "../src/index.js";
import { describeWithRedis, uniqueNamespace, waitFor } from "./helpers.js";

// Issue 24: rediss:// with a test CA on a private redis-server with a TLS listener and an ACL user;
// a wrong CA or server name is a clear error naming the host; credentials never reach the logs.
describeWithRedis("RedisBroker over TLS with an ACL user", () => {
  let certs: TestCertificates;
  let server: PrivateRedis;
  let tlsPort: number;
  const password = "s3cret-acl-pass";

  beforeAll(async () => {
    certs = createTestCertificates();
    tlsPort = await freePort();
    server = await PrivateRedis.start([
      "--tls-port",
      String(tlsPort),
      "--tls-cert-file",
      certs.certFile,
      "--tls-key-file",
      certs.keyFile,
      "--tls-ca-cert-file",
      certs.caFile,
      "--tls-auth-clients",
      "no",
      "--user",
      "default",
      "on",
      "nopass",
      "~*",
      "&*",
      "+@all",
      "--user",
      "dqapp",
      "on",
      `>${password}`,
      "~*",
      "&*",
      "+@all",
    ]);
  }, 60_000);

  afterAll(async () => {
    await server?.destroy();
    certs?.remove();
  });

  it("sends and processes messages over rediss:// as an ACL user, never logging the password", async () => {
    const logger = recordingLogger();
    const broker = new RedisBroker({
      url: `rediss://dqapp:${password}@localhost:${tlsPort}`,
      tls: { ca: certs.ca },
      namespace: uniqueNamespace(),
      logger,
    });
    const seen: number[] = [];
    const work = actor((n: number) => void seen.push(n), { broker, actorName: "tlsWork" });
    const worker = new Worker(broker, { concurrency: 2 });
    try {
      await worker.start();
      for (let n = 0; n < 20; n++) await work.send(n);
      await waitFor(() => seen.length === 20, "20 messages over TLS");
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    } finally {
      await worker.stop({ timeout: 5000 });
      await broker.close();
    }
    expect(JSON.stringify(logger.lines)).not.toContain(password);
  }, 60_000);

  const failure = async (options: ConstructorParameters<typeof RedisBroker>[0]) => {
    const logger = recordingLogger();
    const broker = new RedisBroker({ ...options, namespace: uniqueNamespace(), logger });
    const work = actor((_n: number) => undefined, { broker, actorName: "tlsFail" });
    try {
      const error = (await rejection(work.send(1))) as Error;
      expect(JSON.stringify(logger.lines)).not.toContain(password);
      return error;
    } finally {
      await broker.close();
    }
  };

  it("names the host when the server's certificate is not signed by the given CA", async () => {
    const error = await failure({
      url: `rediss://dqapp:${password}@localhost:${tlsPort}`,
      tls: { ca: certs.otherCa },
      connectTimeout: 2000,
    });
    expect(ConnectionFailed.isInstance(error)).toBe(true);
    expect(error.message).toContain(`localhost:${tlsPort}`);
    expect(error.message).toMatch(/certificate/i);
    expect(error.message).not.toContain(password);
  }, 30_000);

  it("names the host when the certificate does not match the server name", async () => {
    const error = await failure({
      url: `rediss://dqapp:${password}@127.0.0.1:${tlsPort}`,
      tls: { ca: certs.ca, servername: "queue.example.test" },
      connectTimeout: 2000,
    });
    expect(ConnectionFailed.isInstance(error)).toBe(true);
    expect(error.message).toContain(`127.0.0.1:${tlsPort}`);
    expect(error.message).toMatch(/queue\.example\.test/);
    expect(error.message).not.toContain(password);
  }, 30_000);

  it("says authentication failed for a wrong ACL password, masking it", async () => {
    const error = await failure({
      url: `rediss://dqapp:wrong-${password}@localhost:${tlsPort}`,
      tls: { ca: certs.ca },
      connectTimeout: 2000,
    });
    expect(ConnectionFailed.isInstance(error)).toBe(true);
    expect(error.message).toContain("authentication failed");
    expect(error.message).not.toContain(`wrong-${password}`);
  }, 30_000);
});
