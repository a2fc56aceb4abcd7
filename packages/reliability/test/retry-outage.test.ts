// Row: a failing actor (maxRetries 2, backoff 200–1000 ms) during a 4 s outage of its private
// Redis: 300 messages, two worker processes; each message should be attempted 3 times and then
// dead-lettered. Issue 16 item 2 (a retry that cannot be re-enqueued is acked) and item 3.
import { afterAll, expect, it } from "@jest/globals";
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { PlannedSend } from "../src/config.js";
import { PrivateRedis } from "../src/private-redis.js";
import {
  available,
  deadLetters,
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

const NAME = "retry_outage";
let redis: PrivateRedis | undefined;
let workers: ChildProcess[] = [];
let ledger: Ledger | undefined;

afterAll(async () => {
  await stopWorkers(workers);
  await ledger?.close();
  await redis?.destroy();
}, 60_000);

(available("redis-server") ? it : it.skip)(
  "a failing actor during a Redis outage loses nothing",
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
    const plan: PlannedSend[] = Array.from({ length: 300 }, () => ({ actor: "fail" }));
    const producer = startProducer(dir, "producer", config, plan, { durationMs: 5000 });
    // The outage starts once failing attempts are in full swing, so that some are in flight.
    const busy = await waitSettled(
      30_000,
      async () => (await ledger!.attempts()).length >= 100,
      50,
    );
    await redis.down();
    await sleep(4000);
    await redis.up();
    const run = await producer.done;
    const sent = new Set(run.sent);
    const settled = await waitSettled(45_000, async () => {
      const dead = new Set((await deadLetters(config)).ids);
      return [...sent].every((id) => dead.has(id));
    });
    const counts = await gather(ledger, config, run.sent);
    const left = await queueState(config);
    const perMessage = new Map<string, number>();
    for (const entry of new Set(counts.attemptsList)) {
      const id = entry.slice(0, entry.lastIndexOf(":"));
      perMessage.set(id, (perMessage.get(id) ?? 0) + 1);
    }
    const short = [...sent].filter((id) => (perMessage.get(id) ?? 0) < 3).length;
    writeRow(30, {
      scenario: "Failing actor (maxRetries 2) during a 4 s Redis outage",
      broker: "redis",
      sent: counts.sent,
      processed: counts.processed,
      duplicates: counts.duplicates,
      deadLettered: counts.deadLettered,
      lost: counts.lost,
      seconds: (Date.now() - started) / 1000,
      notes:
        `outage began ${busy ? "after 100 attempts" : "late (attempts slow to start)"}; ${counts.attemptsList.length} attempts recorded, ${short} message(s) with fewer than 3 distinct attempts; ` +
        `producer exit ${run.code}, ${run.failures} failed send attempts retried; ${settled ? "settled" : "NOT settled within 45 s"}; ${left}`,
    });
    expect(run.code).toBe(0);
    expect(counts.lostIds.slice(0, 10)).toEqual([]);
    expect(counts.lost).toBe(0);
  },
);
