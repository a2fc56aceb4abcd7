// A dq worker PROCESS on a ShardedRedisBroker over a Redis Cluster, from the BUILT package (build
// first). env: DQ_TEST_NODES (JSON startup nodes), DQ_TEST_NAMESPACE, DQ_TEST_QUEUE, DQ_TEST_LEDGER
// (a file: one processed number per line, appended before the message is acked).
// Stops its worker and exits 0 on SIGTERM; the test SIGKILLs one mid-run.
import { appendFileSync } from "node:fs";
import { actor, Worker } from "@dq/core";
import { ShardedRedisBroker } from "../../dist/index.js";

const env = process.env;
const broker = new ShardedRedisBroker({
  cluster: JSON.parse(env.DQ_TEST_NODES),
  namespace: env.DQ_TEST_NAMESPACE,
  shards: 3,
  // A killed worker's held messages come back within seconds, not a minute.
  heartbeatTimeout: 2000,
  maintenanceChance: 100_000,
});
actor(
  async function shardedWork(n) {
    appendFileSync(env.DQ_TEST_LEDGER, `${n}\n`);
  },
  { broker, queueName: env.DQ_TEST_QUEUE },
);
const worker = new Worker(broker, { concurrency: 8, workerTimeout: 200 });
await worker.start();
process.stdout.write("ready\n");
process.once("SIGTERM", async () => {
  await worker.stop({ timeout: 5000 });
  await broker.close();
  process.exit(0);
});
