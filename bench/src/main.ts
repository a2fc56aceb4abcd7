/**
 * `pnpm bench`: dq, BullMQ and bee-queue (and dq on RabbitMQ, and the floors of bare clients)
 * against the same local servers.
 * Prints one table on stdout, progress on stderr, and writes the JSON results file.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, USAGE, type BenchOptions, type CaseId, type SystemId } from "./args.js";
import { drain, enqueueBulk, enqueueOneByOne, roundTrip, type Sample } from "./cases.js";
import { redisVersion } from "./redis-util.js";
import { median } from "./stats.js";
import { rabbitmqReachable } from "./rabbitmq-util.js";
import { loadDriver } from "./systems/index.js";
import type { SystemDriver } from "./systems/system.js";
import { buildTable, metricsFor, renderTable, type Results } from "./table.js";

const DEFAULT_OUT = fileURLToPath(new URL("../results/latest.json", import.meta.url));

const progress = (text: string) => process.stderr.write(`[bench] ${text}\n`);

/** The systems to run: those asked for whose server answers (asked-for unreachable ones fail). */
async function reachableSystems(
  options: BenchOptions,
  versions: { redis?: string; rabbitmq: boolean },
): Promise<SystemDriver[]> {
  const drivers: SystemDriver[] = [];
  for (const id of options.systems) {
    const driver = await loadDriver(id);
    // B3's completion signal goes through Redis for every system, RabbitMQ ones included.
    const up =
      driver.server === "redis"
        ? versions.redis !== undefined
        : versions.rabbitmq && versions.redis !== undefined;
    if (up) drivers.push(driver);
    else if (options.systemsExplicit)
      throw new Error(
        `${driver.label} needs ${driver.server === "redis" ? options.redisUrl : `${options.amqpUrl} and ${options.redisUrl}`}, which does not answer`,
      );
    else progress(`skipping ${driver.label}: its server does not answer`);
  }
  return drivers;
}

async function measure(
  driver: SystemDriver,
  options: BenchOptions,
  run: number,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  const step = async (name: string, body: () => Promise<Sample[]>) => {
    const started = Date.now();
    const result = await body();
    samples.push(...result);
    progress(
      `${driver.label} run ${run}: ${name}: ${result.map((s) => `${s.key}=${s.value.toFixed(s.key.includes("B3") && !s.key.includes("rss") ? 3 : 0)}`).join(" ")} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  };
  const runs = (id: CaseId) => options.cases.includes(id) && (driver.cases?.includes(id) ?? true);
  if (runs("B1")) await step("B1", () => enqueueOneByOne(driver, options));
  if (runs("B1b")) await step("B1b", () => enqueueBulk(driver, options));
  if (runs("B2"))
    for (const c of options.concurrency) await step(`B2 c${c}`, () => drain(driver, options, c));
  if (runs("B3")) await step("B3", () => roundTrip(driver, options));
  return samples;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2), process.env, DEFAULT_OUT);
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  const started = new Date();
  const redis = await redisVersion(options.redisUrl);
  const rabbitmq = options.systems.some((id) => id.includes("rabbitmq"))
    ? await rabbitmqReachable(options.amqpUrl)
    : false;
  const drivers = await reachableSystems(options, { redis, rabbitmq });
  if (drivers.length === 0) throw new Error("no system to benchmark: no server answers");
  progress(
    `cases ${options.cases.join(",")}; systems ${drivers.map((d) => d.id).join(",")}; jobs ${options.jobs}; runs ${options.runs}`,
  );

  const raw: Partial<Record<SystemId, Record<string, number[]>>> = {};
  // Runs interleave the systems so that a burst of load on this shared machine hits all of them.
  for (let run = 1; run <= options.runs; run++) {
    for (const driver of drivers) {
      for (const sample of await measure(driver, options, run)) {
        const bySystem = (raw[driver.id] ??= {});
        (bySystem[sample.key] ??= []).push(sample.value);
      }
    }
  }
  const results: Results = {};
  for (const [id, metrics] of Object.entries(raw) as [SystemId, Record<string, number[]>][]) {
    results[id] = Object.fromEntries(
      Object.entries(metrics).map(([key, runs]) => [key, { median: median(runs), runs }]),
    );
  }
  const metrics = metricsFor(options.cases, options.concurrency);
  const table = buildTable(results, metrics);
  const report = {
    version: 1,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    preliminary: true,
    machine: {
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      totalMemoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
      freeMemoryGiB: Number((os.freemem() / 2 ** 30).toFixed(1)),
      loadAverage: os.loadavg().map((load) => Number(load.toFixed(2))),
      node: process.version,
      redis: redis ?? null,
    },
    options: {
      cases: options.cases,
      systems: drivers.map((d) => d.id),
      jobs: options.jobs,
      batch: options.batch,
      latencyJobs: options.latencyJobs,
      concurrency: options.concurrency,
      runs: options.runs,
      smoke: options.smoke,
    },
    metrics,
    results,
    table,
  };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${renderTable(table)}\n`);
  progress(`wrote ${options.out}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
