// The run directory: snapshots written by worker processes, summed by the exposition process;
// a dead process keeps its counters and histograms but loses its gauges.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "@jest/globals";
import { Registry } from "prom-client";
import { registerMetrics } from "../src/metrics.js";
import { RunCollector, SnapshotWriter } from "../src/multiprocess.js";
import { parseExposition, total } from "./helpers/dq.js";

let directory: string | undefined;
afterEach(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
  directory = undefined;
});

/** The pid of a real process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid!;
}

const labels = { queue_name: "q", actor_name: "a" };

async function metricsOf(messages: number, inProgress: number) {
  const registry = new Registry();
  const metrics = registerMetrics(registry);
  metrics.messages.inc(labels, messages);
  metrics.inProgress.set(labels, inProgress);
  metrics.duration.observe(labels, 20);
  return registry.getMetricsAsJSON();
}

it("sums live processes, and keeps a dead process's counters but not its gauges", async () => {
  directory = mkdtempSync(path.join(tmpdir(), "dq-prom-unit-"));
  // This process, live, through the real writer.
  const registry = new Registry();
  const live = registerMetrics(registry);
  live.messages.inc(labels, 5);
  live.inProgress.set(labels, 2);
  const writer = new SnapshotWriter(directory, registry, 60_000, (error) => {
    throw error;
  });
  writer.start();
  await writer.stop();
  // A process that has exited, as its last write left it.
  const dead = await deadPid();
  writeFileSync(
    path.join(directory, `${dead}.json`),
    JSON.stringify({ pid: dead, writtenAt: Date.now(), metrics: await metricsOf(7, 3) }),
  );

  const collector = new RunCollector(directory);
  for (let scrape = 0; scrape < 2; scrape++) {
    const { registry: summed, processes } = await collector.collect();
    const samples = parseExposition(await summed.metrics());
    expect(total(samples, "dramatiq_messages_total", labels)).toBe(12);
    expect(total(samples, "dramatiq_messages_inprogress", labels)).toBe(2);
    expect(total(samples, "dramatiq_message_duration_milliseconds_count", labels)).toBe(1);
    expect(processes.map((entry) => [entry.pid, entry.messagesTotal])).toEqual([[process.pid, 5]]);
    // The dead process's file is gone, folded into the archive (once: the second scrape agrees).
    expect(readdirSync(directory).sort()).toEqual([`${process.pid}.json`, "archived.json"]);
  }
  expect(existsSync(path.join(directory, `${dead}.json`))).toBe(false);
});

it("reads an empty or missing run directory as no metrics", async () => {
  directory = mkdtempSync(path.join(tmpdir(), "dq-prom-unit-"));
  const { registry, processes } = await new RunCollector(path.join(directory, "not-yet")).collect();
  expect(await registry.getMetricsAsJSON()).toEqual([]);
  expect(processes).toEqual([]);
});
