// Rows: a private RabbitMQ node (its own name, ports, epmd and data) stopped cleanly and started
// again twice while a producer sends 1000 messages and two worker processes consume; once with
// publisher confirms off (`confirmDelivery: false`, Dramatiq's default) and once on (dq's
// default). The producer exits with process.exit(0) right after its last send resolved.
// Issue 16 item 1.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  PrivateRabbitmqCluster,
  RABBITMQ_SERVER,
  type PrivateRabbitmqNode,
} from "@dq/core/testing";
import type { PlannedSend } from "../src/config.js";
import { adopt, registerTempDir } from "../src/processes.js";
import {
  available,
  gather,
  Ledger,
  queueState,
  scenario,
  scenarioDir,
  startProducer,
  startWorker,
  stopWorkers,
  waitSettled,
  writeRow,
} from "./support/harness.js";

const server = process.env.DQ_REL_RABBITMQ_SERVER ?? RABBITMQ_SERVER;
const enabled = available(server, "epmd");
let cluster: PrivateRabbitmqCluster | undefined;
let node: PrivateRabbitmqNode | undefined;
const workers: ChildProcess[] = [];
const ledgers: Ledger[] = [];

beforeAll(async () => {
  if (!enabled) return;
  cluster = await PrivateRabbitmqCluster.start("rel", 1, {
    server,
    logFile: path.join(scenarioDir("rabbitmq_node"), "node.log"),
    // The suite's reaper kills the node and epmd even if this process dies without cleaning up.
    onSpawn: (child) => adopt(child, true),
  });
  registerTempDir(cluster.dir);
  node = cluster.nodes[0];
}, 120_000);

afterAll(async () => {
  await stopWorkers(workers);
  for (const ledger of ledgers) await ledger.close();
  await cluster?.destroy();
}, 60_000);

async function restartRow(order: number, confirmDelivery: boolean): Promise<void> {
  const started = Date.now();
  const name = confirmDelivery ? "rabbitmq_restart_confirms" : "rabbitmq_restart";
  const dir = scenarioDir(name);
  const config = scenario(name, { kind: "rabbitmq", url: node!.url, confirmDelivery });
  const ledger = new Ledger(config);
  ledgers.push(ledger);
  const own = await Promise.all([
    startWorker(dir, "worker-1", config),
    startWorker(dir, "worker-2", config),
  ]);
  workers.push(...own);
  const plan: PlannedSend[] = Array.from({ length: 1000 }, () => ({ actor: "ok" }));
  const producer = startProducer(dir, "producer", config, plan, {
    durationMs: 15_000,
    retryForMs: 90_000,
    timeout: 150_000,
  });
  // Disruptions are timed from the producer's start (booting the workers takes a while on a loaded machine).
  const producing = Date.now();
  const restarts: number[] = [];
  for (const at of [3000, 10_000]) {
    await sleep(Math.max(0, producing + at - Date.now()));
    const begun = Date.now();
    await node!.restart(500);
    restarts.push(Date.now() - begun);
  }
  const run = await producer.done;
  const sent = new Set(run.sent);
  const settled = await waitSettled(45_000, async () => {
    const done = new Set(await ledger.done());
    return [...sent].every((id) => done.has(id));
  });
  const counts = await gather(ledger, config, run.sent);
  const left = await queueState(config);
  await stopWorkers(own);
  // What the stopped workers handed back tells messages stranded on a live worker from messages the node never had.
  const after = await queueState(config);
  writeRow(order, {
    scenario: `RabbitMQ node restart x2 during production and consumption, confirms ${confirmDelivery ? "on (confirmDelivery)" : "off"}`,
    broker: "rabbitmq",
    sent: counts.sent,
    processed: counts.processed,
    duplicates: counts.duplicates,
    deadLettered: counts.deadLettered,
    lost: counts.lost,
    seconds: (Date.now() - started) / 1000,
    notes:
      `${plan.length} planned, producer exit ${run.code}, ${run.failures} failed send attempts retried, ${run.givenUp} given up; ` +
      `restarts took ${restarts.join(", ")} ms (node boots ${node!.bootTimes.join(", ")} ms); ${settled ? "settled" : "NOT settled within 45 s"}; ${left}; after the workers stopped, ${after.replace(/^left /, "")}`,
  });
  expect(run.code).toBe(0);
  expect(counts.lostIds.slice(0, 10)).toEqual([]);
  expect(counts.lost).toBe(0);
}

describe("RabbitMQ node restarted twice", () => {
  (enabled ? it : it.skip)(
    "loses nothing with publisher confirms off",
    () => restartRow(20, false),
    240_000,
  );
  (enabled ? it : it.skip)(
    "loses nothing with publisher confirms on",
    () => restartRow(21, true),
    240_000,
  );
});
