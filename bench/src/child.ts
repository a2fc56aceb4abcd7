/**
 * One worker process per measurement, so that its peak RSS is the worker's alone. Started by the
 * harness with a JSON `ChildConfig` in argv[2] and an IPC channel; see protocol.ts.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import type { ChildConfig, ChildMessage, ParentMessage } from "./protocol.js";
import { loadDriver } from "./systems/index.js";

const config = JSON.parse(process.argv[2] ?? "null") as ChildConfig;

function send(message: ChildMessage): void {
  if (process.connected) process.send?.(message);
}

let peakRss = 0;
/**
 * The kernel's high-water mark of this process's RSS (VmHWM, Linux), else 0. Not
 * resourceUsage().maxRSS: Linux carries it over exec from the forked copy of the parent.
 */
function highWaterMark(): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
const sampler = setInterval(sampleRss, 50);
sampler.unref();

async function main(): Promise<void> {
  const driver = await loadDriver(config.system);
  let count = 0;
  let firstMs = 0;
  let lastMs = 0;
  const publisher =
    config.mode === "signal"
      ? new Redis(config.scope.redisUrl, { maxRetriesPerRequest: 1 })
      : undefined;
  const onComplete = (index: number) => {
    const now = performance.now();
    if (count === 0) firstMs = now;
    lastMs = now;
    count++;
    if (publisher) void publisher.publish(config.channel, String(index)).catch(() => undefined);
    if (config.mode === "drain" && count === config.expect)
      send({ type: "drained", count, firstMs, lastMs });
  };
  const worker = await driver.startWorker(config.scope, config.concurrency, onComplete);
  send({ type: "ready" });
  await new Promise<void>((resolve) => {
    process.on("message", (message: ParentMessage) => {
      if (message.type === "stop") resolve();
    });
    process.on("disconnect", () => resolve());
  });
  sampleRss();
  await worker.close();
  publisher?.disconnect();
  sampleRss();
  peakRss = Math.max(peakRss, highWaterMark());
  send({ type: "stopped", peakRss });
}

main().then(
  () => {
    clearInterval(sampler);
    process.disconnect?.();
    // Some clients keep sockets or timers alive after close; the measurement is over.
    setTimeout(() => process.exit(0), 200).unref();
  },
  (error: unknown) => {
    send({
      type: "error",
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 200).unref();
  },
);
