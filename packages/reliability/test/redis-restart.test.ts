// Row: a private Redis (append-only, fsync always) restarted twice while a producer sends 1500
// messages (10 % of them delayed 1–4 s) and two worker processes consume. Issue 16 items 3
// (a restart strands what a live worker holds) and 2 (enqueues during the outage).
import { afterAll, expect, it } from "@jest/globals";
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { PlannedSend } from "../src/config.js";
import { PrivateRedis } from "../src/private-redis.js";
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

const NAME = "redis_restart";
let redis: PrivateRedis | undefined;
let workers: ChildProcess[] = [];
let ledger: Ledger | undefined;

afterAll(async () => {
  await stopWorkers(workers);
  await ledger?.close();
  await redis?.destroy();
});

(available("redis-server") ? it : it.skip)(
  "Redis restarted twice during production and consumption loses nothing",
  async () => {
    const started = Date.now();
    const dir = scenarioDir(NAME);
    redis = await PrivateRedis.start({ logFile: path.join(dir, "redis-server.log") });
    const config = scenario(NAME, { kind: "redis", url: redis.url, namespace: "dramatiq" });
    ledger = new Ledger(config);
    workers = await Promise.all([
      startWorker(dir, "worker-1", config),
      startWorker(dir, "worker-2", config),
    ]);

    // 10 % delayed by 1–4 s (a fixed pattern, so every run sends the same plan).
    const plan: PlannedSend[] = Array.from({ length: 1500 }, (_, index) =>
      index % 10 === 3 ? { actor: "ok", delay: 1000 + ((index * 37) % 3000) } : { actor: "ok" },
    );
    const producer = startProducer(dir, "producer", config, plan, { durationMs: 12_000 });
    // Disruptions are timed from the producer's start (booting the workers takes a while on a loaded machine).
    const producing = Date.now();
    const restarts: number[] = [];
    for (const at of [3000, 8000]) {
      await sleep(Math.max(0, producing + at - Date.now()));
      const begun = Date.now();
      await redis.restart(1000);
      restarts.push(Date.now() - begun);
    }
    const run = await producer.done;
    const sent = new Set(run.sent);
    const settled = await waitSettled(45_000, async () => {
      const done = new Set(await ledger!.done());
      return [...sent].every((id) => done.has(id));
    });
    const counts = await gather(ledger, config, run.sent);
    const left = await queueState(config);
    await stopWorkers(workers);
    // What the stopped workers handed back tells messages stranded on a live worker from messages Redis never had.
    const after = await queueState(config);
    const row = {
      scenario: "Redis restart x2 during production and consumption, 10 % delayed (1–4 s)",
      broker: "redis" as const,
      sent: counts.sent,
      processed: counts.processed,
      duplicates: counts.duplicates,
      deadLettered: counts.deadLettered,
      lost: counts.lost,
      seconds: (Date.now() - started) / 1000,
      notes:
        `${plan.length} planned, producer exit ${run.code}, ${run.failures} failed send attempts retried, ${run.givenUp} given up; ` +
        `restarts took ${restarts.join(", ")} ms; ${settled ? "settled" : "NOT settled within 45 s"}; ${left}; after the workers stopped, ${after.replace(/^left /, "")}`,
    };
    writeRow(10, row);
    expect(run.code).toBe(0);
    expect(counts.sent).toBe(plan.length);
    expect(counts.lostIds.slice(0, 10)).toEqual([]);
    expect(counts.lost).toBe(0);
  },
);
