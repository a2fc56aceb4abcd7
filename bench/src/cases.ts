import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import type { BenchOptions } from "./args.js";
import { signalChannel } from "./protocol.js";
import { percentile, rate } from "./stats.js";
import type { Scope, SystemDriver } from "./systems/system.js";
import { WorkerProcess } from "./worker-process.js";

/** One measured number of one run. */
export interface Sample {
  /** e.g. "B2 c8". */
  key: string;
  value: number;
}

const WARMUP_JOBS = 20;

/** A fresh scope for one measurement. */
export function newScope(driver: SystemDriver, options: BenchOptions): Scope {
  return {
    prefix: `dqbench-${randomBytes(4).toString("hex")}-${driver.id}`,
    redisUrl: options.redisUrl,
    amqpUrl: options.amqpUrl,
  };
}

async function inScope<T>(
  driver: SystemDriver,
  options: BenchOptions,
  body: (scope: Scope) => Promise<T>,
): Promise<T> {
  const scope = newScope(driver, options);
  try {
    return await body(scope);
  } finally {
    await driver.cleanup(scope);
  }
}

/** B1: enqueue `jobs` no-op jobs one call at a time, awaiting each. */
export function enqueueOneByOne(driver: SystemDriver, options: BenchOptions): Promise<Sample[]> {
  return inScope(driver, options, async (scope) => {
    const producer = await driver.createProducer(scope);
    try {
      await producer.enqueue(-1); // connects and loads scripts outside the timing
      const start = performance.now();
      for (let i = 0; i < options.jobs; i++) await producer.enqueue(i);
      return [{ key: "B1", value: rate(options.jobs, performance.now() - start) }];
    } finally {
      await producer.close();
    }
  });
}

/** B1b: enqueue `jobs` no-op jobs in bulk calls of `batch`. */
export function enqueueBulk(driver: SystemDriver, options: BenchOptions): Promise<Sample[]> {
  return inScope(driver, options, async (scope) => {
    const producer = await driver.createProducer(scope);
    try {
      await producer.enqueue(-1);
      const start = performance.now();
      for (let from = 0; from < options.jobs; from += options.batch)
        await producer.enqueueBulk(from, Math.min(options.batch, options.jobs - from));
      return [{ key: "B1b", value: rate(options.jobs, performance.now() - start) }];
    } finally {
      await producer.close();
    }
  });
}

/** B2: one worker process drains `jobs` pre-enqueued jobs; jobs/s from first to last completion. */
export function drain(
  driver: SystemDriver,
  options: BenchOptions,
  concurrency: number,
): Promise<Sample[]> {
  return inScope(driver, options, async (scope) => {
    const producer = await driver.createProducer(scope);
    try {
      for (let from = 0; from < options.jobs; from += 5000)
        await producer.enqueueBulk(from, Math.min(5000, options.jobs - from));
    } finally {
      await producer.close();
    }
    const child = new WorkerProcess(
      { system: driver.id, scope, concurrency, mode: "drain", expect: options.jobs, channel: "" },
      options.profileDir,
    );
    try {
      await child.waitFor("ready", 30_000);
      // Bounded: a worker slower than 200 jobs/s on no-op jobs is broken, not slow.
      const drained = await child.waitFor("drained", 30_000 + options.jobs * 5);
      const peakRss = await child.stop();
      return [
        {
          key: `B2 c${concurrency}`,
          value: rate(drained.count - 1, drained.lastMs - drained.firstMs),
        },
        { key: `B2 c${concurrency} rss`, value: peakRss / 2 ** 20 },
      ];
    } finally {
      child.kill();
    }
  });
}

/**
 * B3: `latencyJobs` jobs sent one at a time to an idle worker (concurrency 8); each latency is
 * from the enqueue call to the worker's completion message arriving on a Redis channel.
 */
export function roundTrip(driver: SystemDriver, options: BenchOptions): Promise<Sample[]> {
  return inScope(driver, options, async (scope) => {
    const channel = signalChannel(scope.prefix);
    const subscriber = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
    let expected = Number.NaN;
    let arrived: (() => void) | undefined;
    subscriber.on("message", (_channel: string, text: string) => {
      if (Number(text) === expected) arrived?.();
    });
    await subscriber.subscribe(channel);
    const child = new WorkerProcess(
      { system: driver.id, scope, concurrency: 8, mode: "signal", expect: 0, channel },
      options.profileDir,
    );
    const producer = await driver.createProducer(scope);
    try {
      await child.waitFor("ready", 30_000);
      const latencies: number[] = [];
      for (let i = -WARMUP_JOBS; i < options.latencyJobs; i++) {
        expected = i;
        const done = new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`job ${i} did not complete within 10 s`)),
            10_000,
          );
          arrived = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        const start = performance.now();
        await producer.enqueue(i);
        await done;
        if (i >= 0) latencies.push(performance.now() - start);
      }
      const peakRss = await child.stop();
      return [
        { key: "B3 p50", value: percentile(latencies, 50) },
        { key: "B3 p99", value: percentile(latencies, 99) },
        { key: "B3 rss", value: peakRss / 2 ** 20 },
      ];
    } finally {
      child.kill();
      await producer.close();
      subscriber.disconnect();
    }
  });
}
