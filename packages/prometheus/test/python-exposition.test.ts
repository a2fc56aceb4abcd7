// What the exposition server writes, against what Python Dramatiq's writes (prometheus_client in
// multiprocess mode): the same samples with the same label texts, `pid` on the delayed gauge and
// `le="5.0"` bucket bounds.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "@jest/globals";
import { actor, StubBroker, Worker } from "@dq/core";
import { Registry } from "prom-client";
import { Prometheus } from "../src/index.js";
import { goFloat } from "../src/exposition-format.js";
import { registerMetrics } from "../src/metrics.js";
import { SnapshotWriter } from "../src/multiprocess.js";
import { startRunMetricsServer } from "../src/run-metrics-server.js";
import { get, parseExposition, total } from "./helpers/dq.js";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * The /metrics text of Dramatiq's exposition server (prometheus_client 0.16, MultiProcessCollector)
 * after one worker process did: messages_total +1, messages_inprogress +1 -1, delayed gauge +1,
 * one 12 ms duration, all for queue "default", actor "add". `PID` stands for that process's pid.
 */
const PYTHON_EXPOSITION = `# HELP dramatiq_messages_total The total number of messages processed.
# TYPE dramatiq_messages_total counter
dramatiq_messages_total{actor_name="add",queue_name="default"} 1.0
# HELP dramatiq_messages_inprogress The number of messages in progress.
# TYPE dramatiq_messages_inprogress gauge
dramatiq_messages_inprogress{actor_name="add",queue_name="default"} 0.0
# HELP dramatiq_message_duration_milliseconds The time spent processing messages.
# TYPE dramatiq_message_duration_milliseconds histogram
dramatiq_message_duration_milliseconds_sum{actor_name="add",queue_name="default"} 12.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="5.0",queue_name="default"} 0.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="10.0",queue_name="default"} 0.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="25.0",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="50.0",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="75.0",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="100.0",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="250.0",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="500.0",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="750.0",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="1000.0",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="2500.0",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="5000.0",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="7500.0",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="10000.0",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="30000.0",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="60000.0",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="600000.0",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="900000.0",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_bucket{actor_name="add",le="+Inf",queue_name="default"} 1.0
dramatiq_message_duration_milliseconds_count{actor_name="add",queue_name="default"} 1.0
# HELP dramatiq_delayed_messages_inprogress The number of delayed messages in memory.
# TYPE dramatiq_delayed_messages_inprogress gauge
dramatiq_delayed_messages_inprogress{actor_name="add",pid="PID",queue_name="default"} 1.0
`;

it("serves every sample Python's exposition server writes, with the same label texts and values", async () => {
  const directory = mkdtempSync(path.join(tmpdir(), "dq-prom-python-"));
  cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
  const registry = new Registry();
  const metrics = registerMetrics(registry);
  const labels = { queue_name: "default", actor_name: "add" };
  metrics.messages.inc(labels);
  metrics.inProgress.inc(labels);
  metrics.inProgress.dec(labels);
  metrics.delayedInProgress.inc({ ...labels, pid: String(process.pid) });
  metrics.duration.observe(labels, 12);
  const writer = new SnapshotWriter(directory, registry, 60_000, (error) => {
    throw error;
  });
  writer.start();
  await writer.stop();
  const server = await startRunMetricsServer({
    host: "127.0.0.1",
    port: 0,
    dbDirectory: directory,
  });
  cleanups.push(() => server.close());

  const ours = parseExposition((await get(`http://127.0.0.1:${server.port}/metrics`)).body);
  const python = parseExposition(PYTHON_EXPOSITION.replace("PID", String(process.pid)));
  expect(python).toHaveLength(24);
  for (const sample of python) {
    const match = ours.filter(
      (candidate) =>
        candidate.name === sample.name &&
        JSON.stringify(Object.entries(candidate.labels).sort()) ===
          JSON.stringify(Object.entries(sample.labels).sort()),
    );
    expect({ sample, found: match.map((candidate) => candidate.value) }).toEqual({
      sample,
      found: [sample.value],
    });
  }
});

it("labels the delayed gauge with the pid from the middleware itself", async () => {
  const prometheus = new Prometheus();
  const broker = new StubBroker({ middleware: [prometheus] });
  const worker = new Worker(broker, { workerTimeout: 20 });
  await worker.start();
  cleanups.push(async () => {
    await worker.stop({ timeout: 2000 });
    await broker.close();
  });
  const later = actor(function later() {}, { broker });
  await later.sendWithOptions({ delay: 600_000 });
  const labels = { queue_name: "default", actor_name: "later", pid: String(process.pid) };
  const deadline = Date.now() + 10_000;
  while (
    total(
      parseExposition(await prometheus.registry.metrics()),
      "dramatiq_delayed_messages_inprogress",
      labels,
    ) !== 1
  ) {
    if (Date.now() > deadline) throw new Error("the delayed message was never held");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});

it.each([
  [5, "5.0"],
  [600000, "600000.0"],
  [10_000_000, "1e+07"],
  [12_345_678, "1.2345678e+07"],
  [0.25, "0.25"],
  [Infinity, "+Inf"],
])("writes the bucket bound %p as prometheus_client's floatToGoString does (%s)", (value, text) => {
  expect(goFloat(value)).toBe(text);
});
