/**
 * One worker process per measurement, so that its peak RSS is the worker's alone. Started by the
 * harness with a JSON `ChildConfig` in argv[2] and an IPC channel; see protocol.ts.
 */
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import type { ChildConfig, ChildMessage, ParentMessage } from "./protocol.js";
import { DRIVERS } from "./systems/index.js";

const config = JSON.parse(process.argv[2] ?? "null") as ChildConfig;

function send(message: ChildMessage): void {
  process.send?.(message);
}

let peakRss = 0;
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
const sampler = setInterval(sampleRss, 50);
sampler.unref();

async function main(): Promise<void> {
  const driver = DRIVERS[config.system];
  let count = 0;
  let firstMs = 0;
  let lastMs = 0;
  const publisher = config.mode === "signal" ? new Redis(config.scope.redisUrl, { maxRetriesPerRequest: 1 }) : undefined;
  const onComplete = (index: number) => {
    const now = performance.now();
    if (count === 0) firstMs = now;
    lastMs = now;
    count++;
    if (publisher) void publisher.publish(config.channel, String(index)).catch(() => undefined);
    if (config.mode === "drain" && count === config.expect) send({ type: "drained", count, firstMs, lastMs });
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
  // maxRSS (KiB) catches peaks between samples.
  peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
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
    send({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 200).unref();
  },
);
