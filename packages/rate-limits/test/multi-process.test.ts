import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "@jest/globals";
import { Redis } from "ioredis";
import memjs from "memjs";
import { actor, defaultMiddleware, group, type Broker } from "@dq/core";
import { RedisBroker } from "@dq/broker-redis";
import { Barrier, GroupCallbacks } from "../src/index.js";
import { MemcachedRateLimiterBackend } from "../src/memcached.js";
import { RedisRateLimiterBackend } from "../src/redis.js";
import { describeWithServer, MEMCACHED_SERVERS, REDIS_URL, uniqueKey } from "./helpers.js";

// The child processes import the BUILT packages (rate-limits, broker-redis, core): `pnpm build`
// first (turbo's test task builds them, as these are dependencies of this package).
const root = join(__dirname, "..");
beforeAll(() => {
  for (const pkg of ["core", "broker-redis", "rate-limits"]) {
    if (!existsSync(join(root, `../${pkg}/dist/index.js`)))
      throw new Error(`build @dq/${pkg} first: pnpm build`);
  }
});

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
const namespaces: string[] = [];
const children: { child: ChildProcess; stderr: string[] }[] = [];
const closers: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  // Children still running (a failed test) are killed; the normal path stops them with SIGTERM.
  for (const { child } of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const close of closers.splice(0)) await close();
  for (const namespace of namespaces.splice(0)) {
    const keys = await redis.keys(`${namespace}:*`);
    if (keys.length) await redis.del(...keys);
  }
});
afterAll(() => redis.quit());

/** Starts a worker process and resolves once its `Worker` is consuming. */
function startWorker(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; stderr: string[] }> {
  const child = spawn(process.execPath, [join(__dirname, "processes/worker-child.mjs")], {
    env: { ...process.env, REDIS_URL, MEMCACHED_SERVERS, ...env },
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  const entry = { child, stderr: [] as string[] };
  children.push(entry);
  child.stderr!.on("data", (chunk: Buffer) => entry.stderr.push(String(chunk)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`worker ${env.DQ_TEST_WORKER} did not start:\n${entry.stderr.join("")}`)),
      30_000,
    );
    child.once("message", () => {
      clearTimeout(timer);
      resolve(entry);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `worker ${env.DQ_TEST_WORKER} exited with ${code} before starting:\n${entry.stderr.join("")}`,
        ),
      );
    });
  });
}

/** SIGTERMs the workers and checks each stopped cleanly (exit code 0, nothing on stderr). */
async function stopWorkers(entries: { child: ChildProcess; stderr: string[] }[]) {
  const exits = entries.map(
    ({ child }) =>
      new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code))),
  );
  for (const { child } of entries) child.kill("SIGTERM");
  const codes = await Promise.all(exits);
  expect(entries.map(({ stderr }) => stderr.join(""))).toEqual(entries.map(() => ""));
  expect(codes).toEqual(entries.map(() => 0));
}

async function waitFor(condition: () => Promise<boolean>, what: string, timeout = 90_000) {
  const deadline = Date.now() + timeout;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function producer(namespace: string, middleware = defaultMiddleware()): Broker {
  const broker = new RedisBroker({ url: REDIS_URL, namespace, logger: quiet, middleware });
  closers.push(() => broker.close());
  return broker;
}

const count = async (namespace: string, name: string) =>
  Number((await redis.get(`${namespace}:${name}`)) ?? 0);
const byWorker = async (namespace: string) =>
  Object.values(await redis.hgetall(`${namespace}:by-worker`)).map(Number);

describeWithServer("Redis", "dq worker processes on a RedisBroker", () => {
  for (const kind of ["redis", "memcached"] as const) {
    const server = kind === "redis" ? "Redis" : "Memcached";
    it(`never let more than 3 of 4 processes' messages hold a ConcurrentRateLimiter(limit 3) on ${server}, and ran all 200`, async () => {
      const namespace = uniqueKey("dqrlmp");
      namespaces.push(namespace);
      const queueName = "limited";
      if (kind === "memcached") {
        // The limiter key is `<namespace>:limit`; it lives on Memcached, so delete it there.
        const client = memjs.Client.create(MEMCACHED_SERVERS, { logger: { log() {} } });
        closers.push(async () => {
          await client.delete(`${namespace}:limit`);
          client.close();
        });
      }
      const workers = await Promise.all(
        [1, 2, 3, 4].map((n) =>
          startWorker({
            DQ_TEST_NAMESPACE: namespace,
            DQ_TEST_QUEUE: queueName,
            DQ_TEST_WORKER: `w${n}`,
            DQ_TEST_MODE: "concurrent",
            DQ_TEST_BACKEND: kind,
          }),
        ),
      );
      const broker = producer(namespace);
      // The producer only enqueues; the body never runs here.
      const limited = actor(function limited_work(_i: number) {}, { broker, queueName });
      for (let i = 0; i < 200; i++) await limited.send(i);

      await waitFor(
        async () => (await redis.scard(`${namespace}:done`)) === 200,
        "200 messages done",
      );
      await broker.join(queueName, { timeout: 30_000 });
      await stopWorkers(workers);

      // All 200 ran exactly once, spread over the 4 processes.
      expect(await count(namespace, "runs")).toBe(200);
      const perWorker = await byWorker(namespace);
      expect(perWorker).toHaveLength(4);
      expect(perWorker.reduce((a, b) => a + b, 0)).toBe(200);
      // Never more than 3 holders; the limit was really contended (it filled up and turned messages away).
      expect(await count(namespace, "most")).toBe(3);
      expect(await count(namespace, "refused")).toBeGreaterThan(0);
      expect(await count(namespace, "inside")).toBe(0);
      expect((await (broker as RedisBroker).getQueueMessageCounts(queueName)).deadLettered).toBe(0);
      // Every slot was given back.
      const backend =
        kind === "redis"
          ? new RedisRateLimiterBackend({ url: REDIS_URL })
          : new MemcachedRateLimiterBackend({ servers: MEMCACHED_SERVERS });
      try {
        expect(await backend.incr(`${namespace}:limit`, 3, 3, 10_000)).toBe(true);
      } finally {
        await backend.close();
      }
    }, 150_000);
  }

  it("fires a 50-message group's completion callback exactly once over two processes (GroupCallbacks on Redis)", async () => {
    const namespace = uniqueKey("dqrlgroup");
    namespaces.push(namespace);
    const queueName = "grouped";
    const workers = await Promise.all(
      [1, 2].map((n) =>
        startWorker({
          DQ_TEST_NAMESPACE: namespace,
          DQ_TEST_QUEUE: queueName,
          DQ_TEST_WORKER: `w${n}`,
          DQ_TEST_MODE: "group",
          DQ_TEST_BACKEND: "redis",
        }),
      ),
    );
    const backend = new RedisRateLimiterBackend({ url: REDIS_URL });
    closers.push(() => backend.close());
    const broker = producer(namespace, [
      ...defaultMiddleware(),
      new GroupCallbacks(backend, { barrierTtl: 120_000 }),
    ]);
    const child = actor(function group_child(_i: number) {}, { broker, queueName });
    const done = actor(function group_done(_label: string) {}, { broker, queueName });

    await group(
      Array.from({ length: 50 }, (_, i) => child.message(i)),
      { broker },
    )
      .addCompletionCallback(done.message("all 50 done"))
      .run();
    // The barrier is keyed by the group's uuid (verbatim, no namespace): find it on a child message.
    const stored = Object.values(await redis.hgetall(`${namespace}:${queueName}.msgs`)).map(
      (data) => JSON.parse(data) as { options: { group_completion_uuid?: string } },
    );
    const groupId = stored.find((message) => message.options.group_completion_uuid)?.options
      .group_completion_uuid;
    expect(groupId).toEqual(expect.any(String));
    closers.push(() => redis.del(groupId!, `${groupId}@events`));

    await waitFor(
      async () => (await redis.llen(`${namespace}:fired`)) > 0,
      "the completion callback",
    );
    await broker.join(queueName, { timeout: 30_000 });
    await stopWorkers(workers);

    expect(await redis.scard(`${namespace}:done`)).toBe(50);
    expect(await count(namespace, "runs")).toBe(50);
    // Both processes ran children, and the callback ran once in all.
    const perWorker = await byWorker(namespace);
    expect(perWorker).toHaveLength(2);
    for (const ran of perWorker) expect(ran).toBeGreaterThan(0);
    const fired = await redis.lrange(`${namespace}:fired`, 0, -1);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatch(/^all 50 done by w[12]$/);
  }, 150_000);
});

interface BarrierReport {
  done: number;
  cleared: number;
}

function barrierChild(key: string, items: number): Promise<BarrierReport> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(__dirname, "processes/barrier-child.mjs"), key, String(items)],
      { env: { ...process.env, REDIS_URL, MEMCACHED_SERVERS }, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`child failed: ${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as BarrierReport);
      },
    );
  });
}

// The Redis barrier across processes is covered by the group test above; the Memcached one has no
// worker-level user (GroupCallbacks there is the same Barrier), so it is checked directly.
describeWithServer("Memcached", "Barrier across 2 processes on Memcached", () => {
  it("is cleared by exactly one of 50 parties spread over two processes", async () => {
    const key = uniqueKey("dqrlbar");
    const backend = new MemcachedRateLimiterBackend({ servers: MEMCACHED_SERVERS });
    try {
      expect(await new Barrier(backend, key, { ttl: 60_000 }).create(50)).toBe(true);
      const reports = await Promise.all([barrierChild(key, 25), barrierChild(key, 25)]);
      expect(reports.map((r) => r.done)).toEqual([25, 25]);
      expect(reports.reduce((sum, r) => sum + r.cleared, 0)).toBe(1);
    } finally {
      await backend.close();
      const redisKeys = await redis.keys(`${key}*`);
      if (redisKeys.length) await redis.del(...redisKeys);
    }
  }, 150_000);
});
