// The metrics of a real `dq` run (packages/cli/dist/bin.js): the totals of both worker processes
// on one exposition server, and a clear error when its port is taken.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Server } from "node:net";
import { afterEach, describe, expect, it, jest } from "@jest/globals";
import { RedisBroker } from "@dq/broker-redis";
import { Message } from "@dq/core";
import { DURATION_BUCKETS } from "../src/metrics.js";
import {
  DqProcess,
  fixture,
  freePort,
  get,
  killAll,
  listen,
  listeningSockets,
  parseExposition,
  total,
  until,
} from "./helpers/dq.js";

jest.setTimeout(120_000);

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const redisUp =
  spawnSync(
    process.execPath,
    [
      "-e",
      `require("node:net").connect(${new URL(redisUrl).port || 6379}, "${new URL(redisUrl).hostname}").on("connect", () => process.exit(0)).on("error", () => process.exit(1))`,
    ],
    {
      timeout: 5000,
    },
  ).status === 0;
const describeWithRedis = redisUp || process.env.CI ? describe : describe.skip;

let broker: RedisBroker | undefined;
let queue: string | undefined;
const directories: string[] = [];
let held: Server | undefined;

afterEach(async () => {
  await killAll();
  if (broker && queue) {
    const keys = [
      ...(await broker.client.keys(`dramatiq:${queue}*`)),
      ...(await broker.client.keys(`dramatiq:__acks__.*.${queue}*`)),
    ];
    if (keys.length) await broker.client.del(...keys);
  }
  await broker?.close();
  broker = undefined;
  queue = undefined;
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
  await new Promise((resolve) => (held ? held.close(resolve) : resolve(undefined)));
  held = undefined;
});

describeWithRedis("dq -p 2 on Redis with @dq/prometheus", () => {
  it("serves the totals of both worker processes on one port", async () => {
    queue = `prom_${randomBytes(4).toString("hex")}`;
    const db = mkdtempSync(path.join(tmpdir(), "dq-prom-test-"));
    directories.push(db);
    const port = await freePort();
    const dq = new DqProcess([fixture("prom-actors.ts"), "-p", "2", "-t", "2"], {
      DQ_BROKER_URL: redisUrl,
      PROM_TEST_QUEUE: queue,
      DQ_PROMETHEUS: "1",
      dramatiq_prom_port: String(port),
      dramatiq_prom_db: db,
    });
    await dq.waitFor(/All 2 worker processes booted/);
    await dq.waitFor(
      new RegExp(`Serving the run's Prometheus metrics on http://127\\.0\\.0\\.1:${port}/metrics`),
    );

    broker = new RedisBroker({ url: redisUrl });
    broker.declareQueue(queue);
    await broker.enqueueMany(
      Array.from(
        { length: 100 },
        (_, i) => new Message({ queueName: queue!, actorName: "promWork", args: [i] }),
      ),
    );

    const url = `http://127.0.0.1:${port}/metrics`;
    const labels = { queue_name: queue, actor_name: "promWork" };
    let text = "";
    await until(async () => {
      text = (await get(url)).body;
      const samples = parseExposition(text);
      return (
        total(samples, "dramatiq_messages_total", labels) === 110 &&
        total(samples, "dramatiq_messages_inprogress") === 0
      );
    }, `110 messages in ${url}`);
    const samples = parseExposition(text);

    // 100 messages + 10 retries, the 10 first attempts errored, each retried once.
    expect(total(samples, "dramatiq_messages_total", labels)).toBe(110);
    expect(total(samples, "dramatiq_message_errors_total", labels)).toBe(10);
    expect(total(samples, "dramatiq_message_retries_total", labels)).toBe(10);
    expect(total(samples, "dramatiq_message_rejects_total")).toBe(0);
    expect(total(samples, "dramatiq_messages_inprogress", labels)).toBe(0);
    expect(total(samples, "dramatiq_delayed_messages_inprogress")).toBe(0);
    expect(total(samples, "dramatiq_message_duration_milliseconds_count", labels)).toBe(110);
    expect(
      total(samples, "dramatiq_message_duration_milliseconds_bucket", { ...labels, le: "+Inf" }),
    ).toBe(110);
    // Every actor sleeps 15 ms: nothing lands in the 5 and 10 ms buckets.
    expect(
      total(samples, "dramatiq_message_duration_milliseconds_bucket", { ...labels, le: "10.0" }),
    ).toBe(0);
    expect(
      total(samples, "dramatiq_message_duration_milliseconds_sum", labels),
    ).toBeGreaterThanOrEqual(110 * 14);
    const buckets = samples
      .filter((sample) => sample.name === "dramatiq_message_duration_milliseconds_bucket")
      .map((sample) => sample.labels.le);
    // Bounds written as Python's prometheus_client writes them: le="5.0".
    expect(buckets).toEqual([...DURATION_BUCKETS.map((bound) => `${bound}.0`), "+Inf"]);
    // Every sample carries exactly Dramatiq's two labels (plus `le` on buckets, and `pid` on the
    // per-process delayed gauge, as prometheus_client's multiprocess mode writes it).
    for (const sample of samples.filter((sample) => sample.name.startsWith("dramatiq_"))) {
      const expected =
        sample.name === "dramatiq_delayed_messages_inprogress"
          ? ["actor_name", "pid", "queue_name"]
          : ["actor_name", "queue_name"];
      expect(
        Object.keys(sample.labels)
          .filter((key) => key !== "le")
          .sort(),
      ).toEqual(expected);
    }
    for (const [name, type] of [
      ["dramatiq_messages_total", "counter"],
      ["dramatiq_message_errors_total", "counter"],
      ["dramatiq_message_retries_total", "counter"],
      ["dramatiq_message_rejects_total", "counter"],
      ["dramatiq_messages_inprogress", "gauge"],
      ["dramatiq_delayed_messages_inprogress", "gauge"],
      ["dramatiq_message_duration_milliseconds", "histogram"],
    ]) {
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    }

    // Both worker processes contributed: each left its own file, and the exposition server read
    // both (GET /processes lists the live processes it summed).
    const workers = dq.workerPids().sort();
    expect(workers).toHaveLength(2);
    expect(
      readdirSync(db)
        .filter((name) => /^\d+\.json$/.test(name))
        .sort(),
    ).toEqual(workers.map((pid) => `${pid}.json`).sort());
    const processes = JSON.parse((await get(`http://127.0.0.1:${port}/processes`)).body) as {
      pid: number;
      messagesTotal: number;
    }[];
    expect(processes.map((entry) => entry.pid).sort()).toEqual(workers);
    for (const entry of processes) expect(entry.messagesTotal).toBeGreaterThan(0);
    expect(processes.reduce((sum, entry) => sum + entry.messagesTotal, 0)).toBe(110);
    for (const pid of workers) {
      const snapshot = JSON.parse(readFileSync(path.join(db, `${pid}.json`), "utf8")) as {
        pid: number;
      };
      expect(snapshot.pid).toBe(pid);
    }

    dq.child.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
  });
});

/** The pids of the run: the dq process and every process that logged a line. */
const pidsOf = (dq: DqProcess) => [
  dq.child.pid!,
  ...[...dq.output.matchAll(/\[PID (\d+)\]/g)].map((match) => Number(match[1])),
];

describe("dq with @dq/prometheus, no broker URL", () => {
  it("warns once, naming the port, when the exposition port is in use; the run goes on without metrics", async () => {
    held = await listen(0);
    const port = (held.address() as { port: number }).port;
    const dq = new DqProcess([fixture("prom-actors.ts"), "-p", "1", "--metrics", String(port)], {});
    directories.push(path.join(tmpdir(), `dq-prometheus-${dq.child.pid}`));
    await dq.waitFor(/All 1 worker process booted/);
    await dq.waitFor(
      new RegExp(
        `\\[WARN\\] cannot serve Prometheus metrics on 127\\.0\\.0\\.1:${port}: port ${port} is already in use.*This run serves no metrics\\.`,
      ),
    );
    // The fork process finishes (exit 0) and is not restarted: no second warning, no error.
    await dq.waitFor(/Fork process 0 \(PID \d+\) finished\./);
    // The worker writes to the run's default directory, named after the dq process's pid.
    await until(
      async () => existsSync(path.join(tmpdir(), `dq-prometheus-${dq.child.pid}`)),
      "the default run directory",
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    dq.child.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
    expect([...dq.output.matchAll(/cannot serve Prometheus metrics/g)]).toHaveLength(1);
    expect(dq.output).not.toMatch(/\[ERROR\]|\[CRITICAL\]|restarting it/);
    expect(dq.output.match(/Starting fork process/g)).toHaveLength(1);
  });

  it("serves metrics only when asked, and only on 127.0.0.1 unless told otherwise", async () => {
    // Not asked: no Prometheus middleware, no fork, no listening socket in any process of the run.
    const quiet = new DqProcess([fixture("prom-actors.ts"), "-p", "1"], {});
    await quiet.waitFor(/All 1 worker process booted/);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(listeningSockets(pidsOf(quiet))).toEqual([]);
    quiet.child.kill("SIGTERM");
    expect((await quiet.exited).code).toBe(0);
    expect(quiet.output).not.toMatch(/Fork process|Prometheus/);

    // --metrics PORT: the exposition server on 127.0.0.1 only.
    const port = await freePort();
    const dq = new DqProcess([fixture("prom-actors.ts"), "-p", "2", "--metrics", String(port)], {});
    directories.push(path.join(tmpdir(), `dq-prometheus-${dq.child.pid}`));
    await dq.waitFor(
      new RegExp(`Serving the run's Prometheus metrics on http://127\\.0\\.0\\.1:${port}/metrics`),
    );
    expect(listeningSockets(pidsOf(dq))).toEqual([`127.0.0.1:${port}`]);
    expect((await get(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    dq.child.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);

    // DQ_METRICS_PORT works the same way.
    const envPort = await freePort();
    const viaEnv = new DqProcess([fixture("prom-actors.ts"), "-p", "1"], {
      DQ_METRICS_PORT: String(envPort),
    });
    directories.push(path.join(tmpdir(), `dq-prometheus-${viaEnv.child.pid}`));
    await viaEnv.waitFor(
      new RegExp(
        `Serving the run's Prometheus metrics on http://127\\.0\\.0\\.1:${envPort}/metrics`,
      ),
    );
    expect(listeningSockets(pidsOf(viaEnv))).toEqual([`127.0.0.1:${envPort}`]);
    viaEnv.child.kill("SIGTERM");
    expect((await viaEnv.exited).code).toBe(0);
  });
});
