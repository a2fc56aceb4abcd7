/**
 * Issue 24: dq's drain rate on one Redis, behind Sentinel, and on a three-master Redis Cluster
 * (one hash-tagged namespace, and ShardedRedisBroker over three shards), in one run on servers this
 * script starts itself on free ports (never the shared server). Run: `pnpm --filter @dq/bench topologies`
 * (flags: --jobs N, default 20000; --runs N, default 3; --out FILE).
 * Each row: N no-op messages enqueued in bulk (timed: enqueue rate), then drained by one in-process
 * Worker at concurrency 8 (timed from the first completion to the last).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { actor, Broker, Middleware, Worker, type MessageProxy } from "@dq/core";
import { PrivateRedis, PrivateRedisCluster, PrivateSentinelSet } from "@dq/core/testing";
import { RedisBroker, ShardedRedisBroker } from "@dq/broker-redis";
import { Redis } from "ioredis";

/** CPU seconds (user + sys) the redis-servers on `ports` have used so far. */
async function redisCpuSeconds(ports: readonly number[]): Promise<number> {
  let total = 0;
  for (const port of ports) {
    const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
    try {
      await client.connect();
      const info = await client.info("cpu");
      const read = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
      total += read("used_cpu_user") + read("used_cpu_sys");
    } finally {
      client.disconnect();
    }
  }
  return total;
}

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "20000" },
    runs: { type: "string", default: "3" },
    out: { type: "string", default: "results/topologies.json" },
  },
});
const jobs = Number(values.jobs);
const runs = Number(values.runs);

/** Counts acks and resolves when `total` are done; notes the first and last completion times. */
class Completion extends Middleware {
  first = 0;
  last = 0;
  done = 0;
  private resolve: () => void = () => undefined;
  readonly finished: Promise<void>;
  constructor(private readonly total: number) {
    super();
    this.finished = new Promise((resolve) => (this.resolve = resolve));
  }
  override afterAck(_broker: Broker, _message: MessageProxy): void {
    const now = performance.now();
    if (this.done++ === 0) this.first = now;
    this.last = now;
    if (this.done === this.total) this.resolve();
  }
}

interface Row {
  topology: string;
  enqueuePerSecond: number[];
  drainPerSecond: number[];
  /** Messages drained per CPU second of the redis-servers, and of the worker's process. */
  perRedisCpuSecond: number[];
  perWorkerCpuSecond: number[];
}

async function measure(
  topology: string,
  ports: readonly number[],
  makeBroker: () => Broker,
): Promise<Row> {
  const row: Row = {
    topology,
    enqueuePerSecond: [],
    drainPerSecond: [],
    perRedisCpuSecond: [],
    perWorkerCpuSecond: [],
  };
  for (let run = 0; run < runs; run++) {
    const broker = makeBroker();
    const completion = new Completion(jobs);
    broker.addMiddleware(completion);
    const queueName = `topo${run}`;
    const noop = actor(function topologyNoop(_n: number) {}, { broker, queueName });
    try {
      await noop.send(-1); // connect and load scripts before timing
      await broker.flush(queueName);
      const started = performance.now();
      for (let start = 0; start < jobs; start += 1000)
        await broker.enqueueMany(
          Array.from({ length: Math.min(1000, jobs - start) }, (_, i) => noop.message(start + i)),
        );
      row.enqueuePerSecond.push(Math.round(jobs / ((performance.now() - started) / 1000)));
      const redisBefore = await redisCpuSeconds(ports);
      const workerBefore = process.cpuUsage();
      const worker = new Worker(broker, { concurrency: 8 });
      await worker.start();
      await completion.finished;
      const workerCpu = process.cpuUsage(workerBefore);
      const redisCpu = (await redisCpuSeconds(ports)) - redisBefore;
      await worker.stop({ timeout: 10_000 });
      row.perRedisCpuSecond.push(Math.round(jobs / redisCpu));
      row.perWorkerCpuSecond.push(Math.round(jobs / ((workerCpu.user + workerCpu.system) / 1e6)));
      row.drainPerSecond.push(
        Math.round((jobs - 1) / ((completion.last - completion.first) / 1000)),
      );
      await broker.flush(queueName);
    } finally {
      await broker.close();
    }
    process.stderr.write(
      `${topology} run ${run + 1}: enqueue ${row.enqueuePerSecond.at(-1)}/s, drain ${row.drainPerSecond.at(-1)}/s, ${row.perRedisCpuSecond.at(-1)} per Redis CPU s, ${row.perWorkerCpuSecond.at(-1)} per worker CPU s\n`,
    );
  }
  return row;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const single = await PrivateRedis.start();
const sentinel = await PrivateSentinelSet.start();
const cluster = await PrivateRedisCluster.start(3);
const rows: Row[] = [];
try {
  const sentinelPorts = [sentinel.master.port, sentinel.replica.port];
  const clusterPorts = cluster.nodes.map((node) => node.port);
  // Warm-up, not reported: the first row would otherwise also measure the JIT warming up.
  await measure(
    "warm-up (not reported)",
    [single.port],
    () => new RedisBroker({ url: single.url }),
  );
  rows.push(
    await measure("single redis-server", [single.port], () => new RedisBroker({ url: single.url })),
  );
  rows.push(
    await measure(
      "sentinel (master + replica)",
      sentinelPorts,
      () => new RedisBroker({ sentinels: sentinel.sentinels, name: sentinel.name }),
    ),
  );
  rows.push(
    await measure(
      "sentinel, durableEnqueue",
      sentinelPorts,
      () =>
        new RedisBroker({
          sentinels: sentinel.sentinels,
          name: sentinel.name,
          durableEnqueue: true,
        }),
    ),
  );
  rows.push(
    await measure(
      "cluster, one hash-tagged namespace",
      clusterPorts,
      () => new RedisBroker({ cluster: cluster.startupNodes, namespace: "{dqbench}" }),
    ),
  );
  rows.push(
    await measure(
      "cluster, ShardedRedisBroker (3 shards)",
      clusterPorts,
      () =>
        new ShardedRedisBroker({ cluster: cluster.startupNodes, namespace: "dqbench", shards: 3 }),
    ),
  );
} finally {
  await cluster.destroy();
  await sentinel.destroy();
  await single.destroy();
}

const base = median(rows[0]!.drainPerSecond);
const lines = [
  `| topology | enqueue msg/s (median of ${runs}) | drain msg/s, 1 worker c8 (median) | drain vs single | msgs per Redis CPU s | msgs per worker CPU s |`,
  "| --- | ---: | ---: | ---: | ---: | ---: |",
  ...rows.map(
    (row) =>
      `| ${row.topology} | ${median(row.enqueuePerSecond)} | ${median(row.drainPerSecond)} | ${(median(row.drainPerSecond) / base).toFixed(2)}× | ${median(row.perRedisCpuSecond)} | ${median(row.perWorkerCpuSecond)} |`,
  ),
];
process.stdout.write(`${lines.join("\n")}\n`);
const out = path.resolve(values.out);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify({ jobs, runs, cpus: os.cpus().length, node: process.version, rows }, null, 2),
);
