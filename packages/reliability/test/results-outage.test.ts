// Row: the result backend (a private Redis) down for 5 s while two workers process 400 messages
// whose actor stores its result (the broker is the shared Redis, in a namespace of the row's own).
// A message counts as lost when it ran but its result is not in the backend at the end.
// Issue 16 item 6.
import { afterAll, expect, it } from "@jest/globals";
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Message, ResultMissing } from "@dq/core";
import { RedisResultBackend } from "@dq/results-redis";
import type { PlannedSend } from "../src/config.js";
import { PrivateRedis } from "../src/private-redis.js";
import {
  available,
  cleanShared,
  gather,
  Ledger,
  queueState,
  RUN,
  scenario,
  scenarioDir,
  SHARED_REDIS_URL,
  startProducer,
  startWorker,
  stopWorkers,
  waitSettled,
  writeRow,
} from "./support/harness.js";

const NAME = "results_outage";
let results: PrivateRedis | undefined;
let workers: ChildProcess[] = [];

afterAll(async () => {
  await stopWorkers(workers);
  await results?.destroy();
}, 60_000);

/** The ids among `ids` whose result `rel_ok` stored. */
async function storedResults(
  url: string,
  queueName: string,
  ids: readonly string[],
): Promise<Set<string>> {
  const backend = new RedisResultBackend({ url });
  const found = new Set<string>();
  try {
    for (const messageId of ids) {
      try {
        await backend.getResult(
          new Message({
            queueName,
            actorName: "rel_ok",
            args: [],
            kwargs: {},
            options: {},
            messageId,
          }),
          { block: false },
        );
        found.add(messageId);
      } catch (error) {
        if (!ResultMissing.isInstance(error)) throw error;
      }
    }
  } finally {
    await backend.close();
  }
  return found;
}

(available("redis-server") ? it : it.skip)(
  "the result backend down for 5 s loses no result",
  async () => {
    const started = Date.now();
    const dir = scenarioDir(NAME);
    results = await PrivateRedis.start({ logFile: path.join(dir, "results-redis.log") });
    const config = scenario(
      NAME,
      { kind: "redis", url: SHARED_REDIS_URL, namespace: `${RUN}-results` },
      { resultsUrl: results.url },
    );
    const ledger = new Ledger(config);
    try {
      workers = await Promise.all([
        startWorker(dir, "worker-1", config),
        startWorker(dir, "worker-2", config),
      ]);
      const plan: PlannedSend[] = Array.from({ length: 400 }, () => ({ actor: "ok" }));
      const producer = startProducer(dir, "producer", config, plan, {
        durationMs: 8000,
        closeBeforeExit: true,
      });
      const producing = Date.now();
      await sleep(Math.max(0, producing + 2000 - Date.now()));
      const downAt = Date.now();
      await results.down();
      await sleep(5000);
      await results.up();
      const outage = Date.now() - downAt;
      const run = await producer.done;
      const sent = new Set(run.sent);
      let stored = new Set<string>();
      const settled = await waitSettled(
        45_000,
        async () => {
          const done = new Set(await ledger.done());
          if (![...sent].every((id) => done.has(id))) return false;
          stored = await storedResults(results!.url, config.queue, run.sent);
          return stored.size === sent.size;
        },
        1000,
      );
      stored = await storedResults(results.url, config.queue, run.sent);
      const counts = await gather(ledger, config, run.sent, stored);
      const left = await queueState(config);
      writeRow(40, {
        scenario: "Result backend (private Redis) down for 5 s; lost = ran without a stored result",
        broker: "redis",
        sent: counts.sent,
        processed: counts.processed,
        duplicates: counts.duplicates,
        deadLettered: counts.deadLettered,
        lost: counts.lost,
        seconds: (Date.now() - started) / 1000,
        notes: `${stored.size} results stored; backend away ${outage} ms; producer exit ${run.code}; ${settled ? "settled" : "NOT settled within 45 s"}; ${left}`,
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
  },
);
