import { hostname } from "node:os";
/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are read loosely in tests */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { RedisBroker } from "@dq/broker-redis";
import { actor, Worker, type Actor } from "@dq/core";
import { PrivateRedis, redisServerAvailable, waitFor } from "@dq/core/testing";
import { Redis } from "ioredis";
import { createDashboard, ProcessedCounter, type DashboardHandler } from "../../src/index.js";
import { Client, fakeUiDirectory, serve } from "./helpers/server.js";

/** Commands the server ran so far, by name (from INFO commandstats). */
async function commandCounts(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info("commandstats");
  const counts = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    counts.set(match[1]!, Number(match[2]));
  }
  return counts;
}

/** The commands run between two snapshots, minus the INFO calls that took them. */
function difference(
  before: Map<string, number>,
  after: Map<string, number>,
): Record<string, number> {
  const changed: Record<string, number> = {};
  for (const [name, calls] of after) {
    if (name === "info") continue; // the snapshots themselves (and ioredis's ready check)
    const delta = calls - (before.get(name) ?? 0);
    if (delta > 0) changed[name] = delta;
  }
  return changed;
}

/** Reads SSE frames from a stream until `until` says stop. */
async function readEvents(
  url: string,
  until: (events: { event: string; data: any }[]) => boolean,
): Promise<{ event: string; data: any }[]> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  const reader = response.body!.getReader();
  const events: { event: string; data: any }[] = [];
  let buffer = "";
  try {
    while (!until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += Buffer.from(value).toString("utf8");
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
  } finally {
    controller.abort();
    await reader.cancel().catch(() => undefined);
  }
  return events;
}

const describeWithRedisServer = redisServerAvailable() ? describe : describe.skip;

describeWithRedisServer("redis-server", () => {
  describe("live updates on a private Redis", () => {
    let server: PrivateRedis;
    let admin: Redis;
    let broker: RedisBroker;
    let dashboard: DashboardHandler;
    let http: Awaited<ReturnType<typeof serve>>;
    let client: Client;
    const seen: number[] = [];
    let push: Actor<[x: number], undefined>;

    beforeAll(async () => {
      server = await PrivateRedis.start();
      admin = new Redis(server.url);
      broker = new RedisBroker({ url: server.url, namespace: "live" });
      push = actor((x: number) => void seen.push(x), {
        broker,
        queueName: "jobs",
        actorName: "push",
      });
      dashboard = createDashboard({
        brokers: [broker],
        uiDirectory: fakeUiDirectory(),
        eventInterval: 300,
      });
      http = await serve(dashboard);
      client = new Client(`${http.url}/`);
    }, 60_000);

    afterAll(async () => {
      await http?.close();
      await dashboard?.close();
      await broker?.close();
      admin?.disconnect();
      await server?.stop();
      await server?.destroy();
    });

    it("sends Redis nothing while nobody watches", async () => {
      await client.session(); // a page load: no Redis command either
      const before = await commandCounts(admin);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(difference(before, await commandCounts(admin))).toEqual({});
    });

    it("pushes the overview every interval while a client is connected, and stops after", async () => {
      const events = await readEvents(`${http.url}/api/events`, (seen) => seen.length >= 3);
      expect(events.map((e) => e.event)).toEqual(["overview", "overview", "overview"]);
      expect(events[0]!.data.queues).toContainEqual(expect.objectContaining({ queue: "jobs" }));
      await new Promise((resolve) => setTimeout(resolve, 500)); // the disconnect is seen
      const before = await commandCounts(admin);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(difference(before, await commandCounts(admin))).toEqual({});
    });

    it("pushes `changed` after an action and new counts without a reload", async () => {
      await client.session();
      const events = readEvents(
        `${http.url}/api/events`,
        (seen) =>
          seen.some(
            (e) => e.event === "overview" && e.data.queues.some((q: any) => q.ready === 2),
          ) && seen.some((e) => e.event === "changed"),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await push.send(1);
      await push.send(2);
      await client.post("api/queues/redis/jobs/retry", { all: true });
      const seen = await events;
      expect(seen).toContainEqual({ event: "changed", data: { broker: "redis", queue: "jobs" } });
    });

    it("charts processed messages per minute counted by the ProcessedCounter middleware", async () => {
      const counter = new ProcessedCounter();
      broker.addMiddleware(counter);
      const worker = new Worker(broker, { workerTimeout: 100, concurrency: 3 });
      await worker.start();
      await waitFor(() => seen.length === 2, "the two messages processed", 20_000);
      // While it runs, the worker process describes itself for the workers page.
      const running = await client.json("api/workers");
      expect(running.body.workers).toEqual([
        expect.objectContaining({
          host: hostname(),
          pid: process.pid,
          concurrency: 3,
          startedAt: expect.any(Number),
          inProgress: 0,
        }),
      ]);
      await worker.stop({ timeout: 5000 });
      await counter.flush();
      const { body } = await client.json("api/overview");
      const processed = body.rates[0].processed;
      expect(processed).toHaveLength(30);
      expect(processed.slice(-2).reduce((n: number, p: any) => n + p.n, 0)).toBe(2);
      const workers = await client.json("api/workers");
      expect(workers.body.workers).toEqual([
        expect.objectContaining({ broker: "redis", queues: expect.arrayContaining(["jobs"]) }),
      ]);
    });
  });
});
