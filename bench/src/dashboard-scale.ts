/**
 * @dq/dashboard at scale (not a CI test): one Redis queue with 1,000,000 ready messages and
 * 100,000 dead letters, on a private redis-server started here (a temp dir, a free port, stopped
 * after: nothing is left behind). Times each page and API call (median and p95 over 20 calls) and
 * counts the Redis commands the dashboard sends while nobody is connected (INFO commandstats).
 *
 *   pnpm --filter @dq/bench dashboard-scale [-- --messages 1000000 --dead 100000 --calls 20]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { RedisBroker } from "@dq/broker-redis";
import { Message } from "@dq/core";
import { createDashboard, nodeHandler } from "@dq/dashboard";
import { Redis } from "ioredis";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "1000000" },
    dead: { type: "string", default: "100000" },
    calls: { type: "string", default: "20" },
  },
});
const MESSAGES = Number(values.messages);
const DEAD = Number(values.dead);
const CALLS = Number(values.calls);
const NAMESPACE = "dqbench-dashboard";
const QUEUE = "big";
const BATCH = 10_000;

const out = (line: string) => process.stdout.write(`${line}\n`);

/** A message of the shape dq and Python write (with a redis_message_id). */
function body(index: number, id: string, dead: boolean): string {
  const message = new Message({
    queueName: QUEUE,
    actorName: dead ? "explode" : "process_order",
    args: [index, { customer: `c-${index % 977}`, items: [index % 7, index % 11] }],
    options: dead
      ? {
          redisMessageId: id,
          retries: 3,
          traceback: `Traceback (most recent call last):\n  ValueError: bad order ${index}\n`,
        }
      : { redisMessageId: id },
  });
  return message.encode().toString("utf8");
}

async function fill(redis: Redis): Promise<void> {
  const key = `${NAMESPACE}:${QUEUE}`;
  const started = Date.now();
  for (let from = 0; from < MESSAGES; from += BATCH) {
    const pipeline = redis.pipeline();
    const ids: string[] = [];
    const hash: string[] = [];
    for (let i = from; i < Math.min(MESSAGES, from + BATCH); i++) {
      const id = `m-${i}`;
      ids.push(id);
      hash.push(id, body(i, id, false));
    }
    pipeline.rpush(key, ...ids).hset(`${key}.msgs`, ...hash);
    await pipeline.exec();
  }
  const now = Date.now();
  for (let from = 0; from < DEAD; from += BATCH) {
    const pipeline = redis.pipeline();
    const scored: (string | number)[] = [];
    const hash: string[] = [];
    for (let i = from; i < Math.min(DEAD, from + BATCH); i++) {
      const id = `d-${i}`;
      scored.push(now - (DEAD - i) * 50, id); // one every 50 ms, oldest first
      hash.push(id, body(i, id, true));
    }
    pipeline.zadd(`${key}.XQ`, ...scored).hset(`${key}.XQ.msgs`, ...hash);
    await pipeline.exec();
  }
  out(
    `filled ${MESSAGES} ready + ${DEAD} dead letters in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info("commandstats");
  return new Map(
    [...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]),
  );
}

function idleDelta(before: Map<string, number>, after: Map<string, number>): string {
  const changed = [...after]
    .filter(([name]) => name !== "info")
    .map(([name, calls]) => [name, calls - (before.get(name) ?? 0)] as const)
    .filter(([, delta]) => delta > 0);
  return changed.length ? changed.map(([name, n]) => `${name}=${n}`).join(", ") : "none";
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!;
}

/** A redis-server of this script's own: a free port, a temp dir, no persistence. */
async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await new Promise<number>((resolve) => {
    const probe = createTcpServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const dir = mkdtempSync(path.join(tmpdir(), "dq-bench-dashboard-"));
  const child: ChildProcess = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
    probe.on("error", () => undefined);
    const up = await probe.connect().then(
      () => true,
      () => false,
    );
    probe.disconnect();
    if (up) break;
    if (i > 100) throw new Error("redis-server did not start");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const server = await startRedis();
  const admin = new Redis(server.url);
  const broker = new RedisBroker({ url: server.url, namespace: NAMESPACE });
  try {
    await fill(admin);
    const memory = /used_memory_human:(\S+)/.exec(await admin.info("memory"))?.[1];
    out(`redis used_memory ${memory}`);
    const dashboard = createDashboard({ brokers: [broker] });
    const http = createServer(nodeHandler(dashboard));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;

    const idleBefore = await commandCalls(admin);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const idle = idleDelta(idleBefore, await commandCalls(admin));

    const middle = Math.floor(MESSAGES / 2);
    const calls: [string, string][] = [
      ["page /queues/redis/big (index.html)", "queues/redis/big?tab=ready"],
      ["api/session", "api/session"],
      ["api/overview", "api/overview"],
      [
        "ready, oldest, page 0",
        `api/queues/redis/${QUEUE}/messages?state=ready&order=oldest&page=0&limit=50`,
      ],
      [
        "ready, newest, page 0",
        `api/queues/redis/${QUEUE}/messages?state=ready&order=newest&page=0&limit=50`,
      ],
      [
        "ready, oldest, page 10 000 (offset 500 000)",
        `api/queues/redis/${QUEUE}/messages?state=ready&page=10000&limit=50`,
      ],
      ["ready, 200 per page", `api/queues/redis/${QUEUE}/messages?state=ready&limit=200`],
      [
        "dead, newest, page 0",
        `api/queues/redis/${QUEUE}/messages?state=dead&order=newest&limit=50`,
      ],
      [
        "dead, oldest, page 1 000 (offset 50 000)",
        `api/queues/redis/${QUEUE}/messages?state=dead&page=1000&limit=50`,
      ],
      ["message (ready, in the middle)", `api/messages/redis/${QUEUE}/m-${middle}`],
      ["message (dead letter)", `api/messages/redis/${QUEUE}/d-${DEAD - 1}`],
      ["api/workers", "api/workers"],
      ["search by id", `api/search?q=m-${middle}&field=id`],
      ["search by actor (first 50 matches)", `api/search?q=explode&field=actor&queue=${QUEUE}`],
      [
        "search in args (bounded: 5 000 read)",
        `api/search?q=no-such-text&field=args&queue=${QUEUE}`,
      ],
    ];
    out("");
    out(
      `| call (${MESSAGES.toLocaleString("en")} ready, ${DEAD.toLocaleString("en")} dead) | median ms | p95 ms |`,
    );
    out("| --- | ---: | ---: |");
    for (const [label, path] of calls) {
      const times: number[] = [];
      for (let i = 0; i < CALLS + 2; i++) {
        const started = process.hrtime.bigint();
        const response = await fetch(base + path);
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
        if (i >= 2) times.push(Number(process.hrtime.bigint() - started) / 1e6); // 2 warm-ups
      }
      times.sort((a, b) => a - b);
      out(
        `| ${label} | ${percentile(times, 0.5).toFixed(1)} | ${percentile(times, 0.95).toFixed(1)} |`,
      );
    }

    // SSE: first overview, then nothing once the viewer leaves.
    const controller = new AbortController();
    const started = process.hrtime.bigint();
    const stream = await fetch(`${base}api/events`, { signal: controller.signal });
    const reader = stream.body!.getReader();
    let text = "";
    while (!text.includes("event: overview"))
      text += Buffer.from((await reader.read()).value ?? []).toString();
    out(
      `| api/events: first overview pushed | ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)} | |`,
    );
    controller.abort();
    await reader.cancel().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const afterBefore = await commandCalls(admin);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const afterViewer = idleDelta(afterBefore, await commandCalls(admin));
    out("");
    out(`Redis commands from the dashboard in 10 s with nobody connected: ${idle}`);
    out(`... and in 10 s after the last viewer disconnected: ${afterViewer}`);
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
    await dashboard.close();
  } finally {
    await broker.close();
    admin.disconnect();
    await server.stop();
  }
}

await main();
