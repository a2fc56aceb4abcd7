// Rows: worker processes SIGKILLed mid-run, on each broker (the shared servers, a queue or
// namespace of the row's own). 600 messages that take 30 ms each, two workers; one is SIGKILLed
// at 2 s and replaced, the other at 4 s. Redis brings a dead worker's messages back after its
// heartbeat timeout (3 s here), RabbitMQ when the connection drops.
import { afterAll, describe, expect, it } from "@jest/globals";
import type { ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import type { BrokerConfig, PlannedSend } from "../src/config.js";
import { stopChild } from "../src/processes.js";
import {
  cleanShared,
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

const workers: ChildProcess[] = [];
afterAll(() => stopWorkers(workers), 60_000);

async function sigkillRow(
  order: number,
  brokerName: "redis" | "rabbitmq",
  broker: BrokerConfig,
): Promise<void> {
  const started = Date.now();
  const name = `sigkill_${brokerName}`;
  const dir = scenarioDir(name);
  const config = scenario(name, broker, { slowMs: 30 });
  const ledger = new Ledger(config);
  try {
    const first = await Promise.all([
      startWorker(dir, "worker-1", config),
      startWorker(dir, "worker-2", config),
    ]);
    workers.push(...first);
    const plan: PlannedSend[] = Array.from({ length: 600 }, () => ({ actor: "slow" }));
    const producer = startProducer(dir, "producer", config, plan, {
      durationMs: 5000,
      closeBeforeExit: true,
    });
    const producing = Date.now();
    await sleep(Math.max(0, producing + 2000 - Date.now()));
    await stopChild(first[0], "SIGKILL", 5000);
    workers.push(await startWorker(dir, "worker-3", config));
    await sleep(Math.max(0, producing + 4000 - Date.now()));
    await stopChild(first[1], "SIGKILL", 5000);
    const run = await producer.done;
    const sent = new Set(run.sent);
    const settled = await waitSettled(45_000, async () => {
      const done = new Set(await ledger.done());
      return [...sent].every((id) => done.has(id));
    });
    const counts = await gather(ledger, config, run.sent);
    const left = await queueState(config);
    writeRow(order, {
      scenario: "2 of 3 worker processes SIGKILLed mid-run (30 ms messages)",
      broker: brokerName,
      sent: counts.sent,
      processed: counts.processed,
      duplicates: counts.duplicates,
      deadLettered: counts.deadLettered,
      lost: counts.lost,
      seconds: (Date.now() - started) / 1000,
      notes: `producer exit ${run.code}; duplicates are the killed workers' unacked messages run again (at-least-once); ${settled ? "settled" : "NOT settled within 45 s"}; ${left}`,
    });
    expect(run.code).toBe(0);
    expect(counts.sent).toBe(plan.length);
    expect(counts.lostIds.slice(0, 10)).toEqual([]);
    expect(counts.lost).toBe(0);
  } finally {
    await stopWorkers(workers);
    await ledger.close();
    await cleanShared(config).catch(() => undefined);
  }
}

describe("SIGKILLed workers", () => {
  it("lose nothing on Redis", () =>
    sigkillRow(60, "redis", {
      kind: "redis",
      url: SHARED_REDIS_URL,
      namespace: `${RUN}-sigkill`,
      heartbeatTimeout: 3000,
      maintenanceChance: 1_000_000,
    }));
  it("lose nothing on RabbitMQ", () =>
    sigkillRow(61, "rabbitmq", { kind: "rabbitmq", url: SHARED_AMQP_URL }));
});
