import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { afterEach, expect, it } from "@jest/globals";
import { actor, Worker } from "@dq/core";
import { recordingLogger, waitFor } from "@dq/core/testing";
import { RabbitmqBroker } from "../src/index.js";
import {
  AMQP_URL,
  closeConnectionsNamed,
  deleteQueues,
  describeRabbit,
  uniqueName,
} from "./helpers.js";

const cleanups: (() => Promise<unknown>)[] = [];

describeRabbit("RabbitmqBroker: nothing is lost", () => {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  });

  it("redelivers the unacked messages of a SIGKILLed worker process to another worker", async () => {
    const queueName = uniqueName("dqkill");
    const connectionName = `${queueName} child`;
    cleanups.push(() => deleteQueues([queueName]));
    const logger = recordingLogger();
    const broker = new RabbitmqBroker({ url: AMQP_URL, logger, connectionName: queueName });
    cleanups.unshift(() => broker.close());
    const done = new Set<number>();
    const hold = actor(
      function hold(index: number) {
        done.add(index);
      },
      { broker, queueName },
    );
    for (let i = 0; i < 20; i++) await hold.send(i);

    const script = path.join(__dirname, "fixtures", "hanging-worker.mjs");
    const child: ChildProcess = spawn(
      process.execPath,
      [script, AMQP_URL, queueName, connectionName],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    cleanups.unshift(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(
      () => (output.match(/^started /gm) ?? []).length === 4,
      `the child to start 4 messages (output: ${output})`,
      20_000,
    );
    // The child holds its prefetch window unacked: those are no longer ready on the queue.
    await waitFor(
      async () => (await broker.getQueueMessageCounts(queueName)).ready === 10,
      "10 messages held by the child",
      10_000,
    );

    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;

    const worker = new Worker(broker, { concurrency: 4, workerTimeout: 100 });
    cleanups.unshift(() => worker.stop({ timeout: 5000 }));
    await worker.start();
    await waitFor(() => done.size === 20, "all 20 messages", 20_000);
    expect([...done].sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    await broker.join(queueName, { timeout: 10_000 });
    expect(await broker.getQueueMessageCounts(queueName)).toEqual({
      ready: 0,
      delayed: 0,
      dead: 0,
    });
  });

  it("recovers consumers and producers when the server closes its connections mid-run", async () => {
    const queueName = uniqueName("dqdrop");
    cleanups.push(() => deleteQueues([queueName]));
    const logger = recordingLogger();
    const broker = new RabbitmqBroker({
      url: AMQP_URL,
      logger,
      connectionName: queueName,
      confirmDelivery: true,
    });
    cleanups.unshift(() => broker.close());
    const done = new Set<number>();
    const work = actor(
      async function work(index: number) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        done.add(index);
      },
      { broker, queueName },
    );
    const worker = new Worker(broker, { concurrency: 4, workerTimeout: 100, restartDelay: 200 });
    cleanups.unshift(() => worker.stop({ timeout: 5000 }));
    await worker.start();

    for (let i = 0; i < 30; i++) await work.send(i);
    await waitFor(() => done.size >= 5, "the first messages");
    const closing = closeConnectionsNamed(queueName);
    // Keep producing while the server drops the connections.
    for (let i = 30; i < 60; i++) {
      await work.send(i);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await closing).toBeGreaterThanOrEqual(2);
    for (let i = 60; i < 80; i++) await work.send(i);

    await waitFor(() => done.size === 80, `all 80 messages (got ${done.size})`, 30_000);
    expect(
      logger.lines.some((line) => line.includes("Lost the RabbitMQ consumer connection")),
    ).toBe(true);
    expect(
      logger.lines.some((line) => line.includes("Lost the RabbitMQ publisher connection")),
    ).toBe(true);
    await broker.join(queueName, { timeout: 10_000 });
  });
});
