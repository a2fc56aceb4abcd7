// Rows: poison payloads on each broker (shared servers, a queue or namespace of the row's own),
// among 20 good messages: an actor raising `new Retry({ delay: -1 })`, a failing actor's message
// carrying `min_backoff: "abc"` (pushed raw, as a producer that does not validate would send it:
// dq's own send refuses it), and two payloads that do not decode at all (pushed raw too). Each should be dead-lettered with its reason, never dropped. Issue 16 item 2.
import { afterAll, describe, expect, it } from "@jest/globals";
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import amqp from "amqplib";
import type { BrokerConfig, PlannedSend, ScenarioConfig } from "../src/config.js";
import {
  cleanShared,
  deadLetters,
  gather,
  Ledger,
  queueState,
  RUN,
  scenario,
  scenarioDir,
  SHARED_AMQP_URL,
  SHARED_REDIS_URL,
  startProducer,
  startWorker,
  stopWorkers,
  waitSettled,
  writeRow,
} from "./support/harness.js";

const UNDECODABLE = [
  Buffer.from("\x00\x01not json at all"),
  Buffer.from('{"queue_name": 3, "actor_name": []}'),
];
const workers: ChildProcess[] = [];
afterAll(() => stopWorkers(workers), 60_000);

/** A message of the failing actor whose `min_backoff` is not a number, as JSON from another producer. */
function badOptionMessage(config: ScenarioConfig): { id: string; bytes: Buffer } {
  const id = randomUUID();
  const message = {
    queue_name: config.queue,
    actor_name: "rel_fail",
    args: [0],
    kwargs: {},
    options: { min_backoff: "abc" },
    message_id: id,
    message_timestamp: Date.now(),
  };
  return { id, bytes: Buffer.from(JSON.stringify(message)) };
}

/** Pushes payloads straight onto the queue, as a foreign producer might: `bytes` under their ids. */
async function pushRaw(
  config: ScenarioConfig,
  payloads: { id: string; bytes: Buffer }[],
): Promise<void> {
  const broker = config.broker;
  if (broker.kind === "redis") {
    const redis = new Redis(broker.url, { maxRetriesPerRequest: 3 });
    try {
      for (const { id, bytes } of payloads) {
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
    for (const { bytes } of payloads)
      channel.sendToQueue(config.queue, bytes, { persistent: true });
    await channel.waitForConfirms();
    await channel.close();
  } finally {
    await connection.close();
  }
}

async function badMessagesRow(
  order: number,
  brokerName: "redis" | "rabbitmq",
  broker: BrokerConfig,
): Promise<void> {
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
      ...Array.from({ length: 10 }, () => ({ actor: "ok" as const })),
    ];
    const run = await startProducer(dir, "producer", config, plan, {
      durationMs: 0,
      closeBeforeExit: true,
    }).done;
    const badOption = badOptionMessage(config);
    await pushRaw(config, [
      badOption,
      ...UNDECODABLE.map((bytes) => ({ id: randomUUID(), bytes })),
    ]);
    const okIds = run.sent.filter((_, index) => plan[index]?.actor === "ok");
    const badIds = run.sent.filter((_, index) => plan[index]?.actor !== "ok");
    const settled = await waitSettled(30_000, async () => {
      const done = new Set(await ledger.done());
      const dead = await deadLetters(config);
      return (
        okIds.every((id) => done.has(id)) &&
        [...badIds, badOption.id].every((id) => dead.ids.includes(id)) &&
        dead.undecodable >= UNDECODABLE.length
      );
    });
    const counts = await gather(ledger, config, run.sent);
    const left = await queueState(config);
    const badOptionDead = (await deadLetters(config)).ids.includes(badOption.id);
    const rawLost = Math.max(0, UNDECODABLE.length - counts.undecodable) + (badOptionDead ? 0 : 1);
    writeRow(order, {
      scenario:
        'Poison payloads among 20 good messages: Retry({ delay: -1 }), min_backoff "abc" on the wire, 2 undecodable',
      broker: brokerName,
      sent: counts.sent + UNDECODABLE.length + 1,
      processed: counts.processed,
      duplicates: counts.duplicates,
      deadLettered: counts.deadLettered + counts.undecodable + (badOptionDead ? 1 : 0),
      lost: counts.lost + rawLost,
      seconds: (Date.now() - started) / 1000,
      notes:
        `sent counts the 3 raw payloads; ${run.refused} refused at send; the min_backoff one ${badOptionDead ? "dead-lettered" : "NOT dead-lettered"}; ${counts.undecodable} undecodable dead-lettered; ` +
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
  it("are dead-lettered, never dropped, on Redis", () =>
    badMessagesRow(70, "redis", { kind: "redis", url: SHARED_REDIS_URL, namespace: `${RUN}-bad` }));
  it("are dead-lettered, never dropped, on RabbitMQ", () =>
    badMessagesRow(71, "rabbitmq", { kind: "rabbitmq", url: SHARED_AMQP_URL }));
});
