/**
 * `node bench/dist/isolation/main.js [--jobs N] [--runs N] [--ms 5]`: drains N CPU-bound messages
 * (about `--ms` of computation each) in-process and with `isolate: "thread"` on one StubBroker
 * worker, runs interleaved, and prints jobs/s (median of the runs), the ratio, and the longest the
 * worker's event loop was blocked while it drained (in-process CPU-bound actors block it).
 */
import os from "node:os";
import { parseArgs } from "node:util";
import { Middleware, setBroker, StubBroker, Worker, type Actor } from "@dq/core";
import { median } from "../stats.js";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "400" },
    runs: { type: "string", default: "3" },
    ms: { type: "string", default: "5" },
  },
});
const jobs = Number(values.jobs);
const runs = Number(values.runs);
const targetMs = Number(values.ms);

class Done extends Middleware {
  count = 0;
  onDone: (() => void) | undefined;
  override afterAck(): void {
    this.count++;
    this.onDone?.();
  }
}

const done = new Done();
const broker = new StubBroker();
broker.addMiddleware(done);
setBroker(broker);
const { burn, cpuInProcess, cpuIsolated } = await import("./cpu-actors.js");
setBroker(undefined);

/** Iterations of `burn` that take about `targetMs` on an unhindered core (fastest of 21 calls). */
function calibrate(): { iterations: number; ms: number } {
  let iterations = 100_000;
  const time = () => {
    const samples: number[] = [];
    for (let i = 0; i < 21; i++) {
      const start = performance.now();
      burn(iterations);
      samples.push(performance.now() - start);
    }
    return Math.min(...samples);
  };
  for (let k = 0; k < 4; k++) iterations = Math.round((iterations * targetMs) / time());
  return { iterations, ms: time() };
}

interface Sample {
  jobsPerSecond: number;
  /** The longest the worker's event loop went without running a 1 ms timer, in ms. */
  longestBlock: number;
}

/** Records the longest gap between the ticks of a 1 ms interval timer. */
class BlockMonitor {
  longest = 0;
  private last = performance.now();
  private readonly timer = setInterval(() => {
    const now = performance.now();
    this.longest = Math.max(this.longest, now - this.last);
    this.last = now;
  }, 1);
  /** Lets one more tick in (a loop blocked until now is then measured), then stops. */
  async stop(): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, 2));
    clearInterval(this.timer);
    return this.longest;
  }
}

async function drain(
  target: Actor<[number], number>,
  iterations: number,
  concurrency: number,
): Promise<Sample> {
  const worker = new Worker(broker, { concurrency, workerTimeout: 50 });
  await worker.start();
  // Warm: `concurrency` messages first, so the threads are started and the module imported
  // before the clock runs (as in a long-lived worker).
  await run(worker, target, iterations, concurrency);
  const { elapsed, longestBlock } = await run(worker, target, iterations, jobs);
  await worker.stop({ timeout: 10_000 });
  return { jobsPerSecond: (jobs / elapsed) * 1000, longestBlock };
}

/** Enqueues `count` messages while the worker is paused, then times their drain. */
async function run(
  worker: Worker,
  target: Actor<[number], number>,
  iterations: number,
  count: number,
): Promise<{ elapsed: number; longestBlock: number }> {
  worker.pause();
  for (let i = 0; i < count; i++) await target.send(iterations);
  done.count = 0;
  const finished = new Promise<void>((resolve) => {
    done.onDone = () => {
      if (done.count === count) resolve();
    };
  });
  const start = performance.now();
  const monitor = new BlockMonitor();
  worker.resume();
  await finished;
  const elapsed = performance.now() - start;
  return { elapsed, longestBlock: await monitor.stop() };
}

const { iterations, ms } = calibrate();
const rows: { label: string; concurrency: number; target: Actor<[number], number> }[] = [
  { label: "in-process", concurrency: 8, target: cpuInProcess },
  { label: "isolate: thread", concurrency: 2, target: cpuIsolated },
  { label: "isolate: thread", concurrency: 8, target: cpuIsolated },
];
process.stderr.write(
  `[isolation] ${iterations} iterations ≈ ${ms.toFixed(2)} ms per message; ${jobs} messages, ${runs} runs; ` +
    `${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}\n`,
);
const samples = rows.map(() => [] as Sample[]);
// Untimed warm-up of each row (JIT, thread start, module import).
for (const row of rows) await drain(row.target, iterations, row.concurrency);
for (let run = 0; run < runs; run++) {
  for (const [i, row] of rows.entries()) {
    const sample = await drain(row.target, iterations, row.concurrency);
    samples[i]!.push(sample);
    process.stderr.write(
      `[isolation] run ${run + 1} ${row.label} c${row.concurrency}: ${sample.jobsPerSecond.toFixed(0)} jobs/s, event loop blocked up to ${sample.longestBlock.toFixed(0)} ms\n`,
    );
  }
}
// Runs interleave the rows, so each run's ratio compares drains taken under the same load.
const base = median(samples[0]!.map((s) => s.jobsPerSecond));
console.log(
  `| mode | concurrency | jobs/s (median) | ratio of medians | ratio per run (paired) | longest event-loop block (ms) |`,
);
console.log(`| --- | ---: | ---: | ---: | --- | ---: |`);
for (const [i, row] of rows.entries()) {
  const jobsPerSecond = median(samples[i]!.map((s) => s.jobsPerSecond));
  const block = median(samples[i]!.map((s) => s.longestBlock));
  const paired = samples[i]!.map((s, run) =>
    (s.jobsPerSecond / samples[0]![run]!.jobsPerSecond).toFixed(2),
  );
  console.log(
    `| ${row.label} | ${row.concurrency} | ${jobsPerSecond.toFixed(0)} | ${(jobsPerSecond / base).toFixed(2)}× | ${paired.join(", ")} | ${block.toFixed(0)} |`,
  );
}
