// A three-node RabbitMQ cluster of this test's own (private epmd, node names, ports and data) with
// a quorum queue: the node holding the queue's leader is stopped while producers send with
// confirms and a worker consumes; every message is processed (duplicates counted).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { actor, Worker } from "@dq/core";
import {
  PrivateRabbitmqCluster,
  recordingLogger,
  uniqueQueueName,
  waitFor,
  type PrivateRabbitmqNode,
} from "@dq/core/testing";
import { RabbitmqBroker } from "../src/index.js";

const MESSAGES = 1500;

let cluster: PrivateRabbitmqCluster | undefined;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  const started = Date.now();
  cluster = await PrivateRabbitmqCluster.start("c", 3);
  process.stdout.write(`three-node cluster up in ${Date.now() - started} ms\n`);
}, 300_000);

afterAll(async () => {
  await cluster?.destroy();
}, 120_000);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
});

/** The node that holds the leader of a quorum queue, as the cluster reports it. */
async function leaderOf(queueName: string, ask: PrivateRabbitmqNode): Promise<PrivateRabbitmqNode> {
  const rows = JSON.parse(
    await ask.ctl("list_queues", "name", "leader", "members", "--formatter", "json", "--quiet"),
  ) as { name: string; leader: string; members: string[] }[];
  const row = rows.find((entry) => entry.name === queueName);
  if (!row) throw new Error(`queue ${queueName} not listed: ${JSON.stringify(rows)}`);
  expect(row.members).toHaveLength(3);
  const leader = cluster!.nodes.find((node) => node.name === row.leader);
  if (!leader) throw new Error(`leader ${row.leader} is not one of this cluster's nodes`);
  return leader;
}

describe("a three-node RabbitMQ cluster with quorum queues", () => {
  it(`processes all ${MESSAGES} messages when the node holding the queue leader stops mid-run`, async () => {
    const nodes = cluster!.nodes;
    const queueName = uniqueQueueName("harabbit-ha");
    const logger = recordingLogger();
    // Declare through the first node: the leader is placed there (client-local).
    const options = {
      urls: nodes.map((node) => node.url),
      queueType: "quorum" as const,
      confirmDelivery: true,
      logger,
      connectionWait: 60_000,
      // The default connectTimeout (10 s): on this loaded machine a handshake can take seconds.
      maxRetryDelay: 1000,
    };
    const producer = new RabbitmqBroker(options);
    const consumer = new RabbitmqBroker(options);
    cleanups.push(
      () => producer.close(),
      () => consumer.close(),
    );
    const runs = new Map<number, number>();
    const record = actor(
      function haRecord(index: number) {
        runs.set(index, (runs.get(index) ?? 0) + 1);
      },
      { broker: producer, queueName },
    );
    actor(
      function haRecord(index: number) {
        runs.set(index, (runs.get(index) ?? 0) + 1);
      },
      { broker: consumer, queueName },
    );
    producer.declareQueue(queueName);
    await record.send(-1);
    const leader = await leaderOf(queueName, nodes[0]!);
    const survivor = nodes.find((node) => node !== leader)!;

    const worker = new Worker(consumer, { workerTimeout: 100, restartDelay: 500 });
    cleanups.unshift(() => worker.stop({ timeout: 10_000 }));
    await worker.start();

    // Producers: batches of 50 concurrent sends; a send that fails is sent again (and counted).
    let failedSends = 0;
    let over = false;
    cleanups.unshift(async () => {
      over = true;
    });
    const produce = (async () => {
      for (let start = 0; start < MESSAGES; start += 50) {
        const batch = Array.from({ length: Math.min(50, MESSAGES - start) }, (_, i) => start + i);
        await Promise.all(
          batch.map(async (index) => {
            while (!over) {
              try {
                await record.send(index);
                return;
              } catch (error) {
                failedSends++;
                logger.warn(`test producer: send ${index} failed: ${(error as Error).message}`);
                await new Promise((resolve) => setTimeout(resolve, 500));
              }
            }
          }),
        );
      }
    })();

    await waitFor(() => runs.size > MESSAGES / 3, "a third of the messages", 120_000);
    const stoppedAt = runs.size;
    const stopStarted = Date.now();
    await leader.down();
    const stopMs = Date.now() - stopStarted;
    try {
      await produce;
      await waitFor(() => runs.size === MESSAGES + 1, `all ${MESSAGES} messages`, 240_000);
    } catch (error) {
      const tail = logger.lines.slice(-40).join("\n");
      throw new Error(
        `${(error as Error).message}; ${runs.size - 1} processed; last log lines:\n${tail}`,
      );
    }

    const duplicates = [...runs.values()].reduce((sum, count) => sum + count - 1, 0);
    const newLeader = await leaderOf(queueName, survivor).catch((error: Error) => error.message);
    process.stdout.write(
      `cluster failover: stopped ${leader.name} (the leader) after ${stoppedAt} processed, ` +
        `stop took ${stopMs} ms; ${runs.size - 1}/${MESSAGES} processed, ${duplicates} duplicate run(s), ` +
        `${failedSends} send(s) retried by the producer; leader now ${typeof newLeader === "string" ? newLeader : newLeader.name}\n`,
    );
    expect([...runs.keys()].sort((a, b) => a - b)).toEqual([-1, ...Array(MESSAGES).keys()]);
    // The connections failed over to the other nodes.
    expect(logger.lines.join("\n")).toMatch(/Lost the RabbitMQ (publisher|consumer) connection/);
  }, 400_000);
});
