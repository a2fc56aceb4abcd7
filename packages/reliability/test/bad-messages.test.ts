// Rows: poison payloads on each broker (shared servers, a queue or namespace of the row's own),
// among 20 good messages: an actor raising `new Retry({ delay: -1 })`, a failing actor sent with
// the message option `minBackoff: "abc"`, and two payloads that do not decode at all (pushed raw
// onto the queue). Each should be dead-lettered with its reason, never dropped. Issue 16 item 2.
import { afterAll, describe, expect, it } from "@jest/globals";
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import amqp from "amqplib";
import type { BrokerConfig, PlannedSend, ScenarioConfig } from "../src/config.js";
import { cleanShared, deadLetters, gather, Ledger, queueState, RUN, scenario, scenarioDir, SHARED_AMQP_URL, SHARED_REDIS_URL, startProducer, startWorker, stopWorkers, waitSettled, writeRow } from "./support/harness.js";

const UNDECODABLE = [Buffer.from("\x00\x01not json at all"), Buffer.from('{"queue_name": 3, "actor_name": []}')];
const workers: ChildProcess[] = [];
afterAll(() => stopWorkers(workers), 60_000);

/** Pushes bytes that are not a message straight onto the queue, as a foreign producer might. */
async function pushRaw(config: ScenarioConfig): Promise<void> {
  const broker = config.broker;
  if (broker.kind === "redis") {
    const redis = new Redis(broker.url, { maxRetriesPerRequest: 3 });
    try {
      for (const bytes of UNDECODABLE) {
        const id = randomUUID();
        await redis.hset(`${broker.namespace}:${config.queue}.msgs`, id, bytes);
        await redis.rpush(`${broker.namespace}:${config.queue}`, id);
      }
    } finally {
      redis.disconnect();
    }
    return;
  }
  const connection = await amqp.connect(broker.url);
  try {
    const channel = await connection.createConfirmChannel();
    for (const bytes of UNDECODABLE) channel.sendToQueue(config.queue, bytes, { persistent: true });
    await channel.waitForConfirms();
    await channel.close();
  } finally {
    await connection.close();
  }
}

async function badMessagesRow(order: number, brokerName: "redis" | "rabbitmq", broker: BrokerConfig): Promise<void> {
  const started = Date.now();
  const name = `bad_${brokerName}`;
  const dir = scenarioDir(name);
  const config = scenario(name, broker, { failMs: 0 });
  const ledger = new Ledger(config);
  try {
    workers.push(await startWorker(dir, "worker-1", config, 4));
    const plan: PlannedSend[] = [
      ...Array.from({ length: 10 }, () => ({ actor: "ok" as const })),
      { actor: "badRetry" },
      { actor: "fail", options: { minBackoff: "abc" } },
      ...Array.from({ length: 10 }, () => ({ actor: "ok" as const })),
    ];
    const run = await startProducer(dir, "producer", config, plan, { durationMs: 0, closeBeforeExit: true }).done;
    await pushRaw(config);
    const okIds = run.sent.filter((_, index) => plan[index]?.actor === "ok");
    const badIds = run.sent.filter((_, index) => plan[index]?.actor !== "ok");
    const settled = await waitSettled(30_000, async () => {
      const done = new Set(await ledger.done());
      const dead = await deadLetters(config);
      return okIds.every((id) => done.has(id)) && badIds.every((id) => dead.ids.includes(id)) && dead.undecodable >= UNDECODABLE.length;
    });
    const counts = await gather(ledger, config, run.sent);
    const left = await queueState(config);
    const rawLost = Math.max(0, UNDECODABLE.length - counts.undecodable);
    writeRow(order, {
      scenario: "Poison payloads among 20 good messages: Retry({ delay: -1 }), minBackoff \"abc\", 2 undecodable",
      broker: brokerName,
      sent: counts.sent + UNDECODABLE.length,
      processed: counts.processed,
      duplicates: counts.duplicates,
      deadLettered: counts.deadLettered + counts.undecodable,
      lost: counts.lost + rawLost,
      seconds: (Date.now() - started) / 1000,
      notes:
        `sent counts the 2 raw payloads; ${run.refused} refused at send; ${counts.undecodable} undecodable dead-lettered; ` +
        `${counts.attemptsList.length} attempts of the bad ones; ${settled ? "settled" : "NOT settled within 30 s"}; ${left}`,
    });
    expect(counts.lostIds.slice(0, 10)).toEqual([]);
    expect(counts.lost + rawLost).toBe(0);
  } finally {
    await stopWorkers(workers);
    await ledger.close();
    await cleanShared(config).catch(() => undefined);
  }
}

describe("poison payloads", () => {
  it("are dead-lettered, never dropped, on Redis", () => badMessagesRow(70, "redis", { kind: "redis", url: SHARED_REDIS_URL, namespace: `${RUN}-bad` }));
  it("are dead-lettered, never dropped, on RabbitMQ", () => badMessagesRow(71, "rabbitmq", { kind: "rabbitmq", url: SHARED_AMQP_URL }));
});
