import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, it } from "@jest/globals";
import { Redis } from "ioredis";
import { Barrier } from "../src/index.js";
import { MemcachedRateLimiterBackend } from "../src/memcached.js";
import { RedisRateLimiterBackend } from "../src/redis.js";
import { describeWithServer, MEMCACHED_SERVERS, REDIS_URL, uniqueKey } from "./helpers.js";

// The child processes import the built package, so build it first (incremental; turbo's test task
// has built its dependencies, and @dq/core's dist must exist).
const root = join(__dirname, "..");
beforeAll(() => {
  if (!existsSync(join(root, "../core/dist/index.js"))) throw new Error("build @dq/core first: pnpm build");
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")], { stdio: "pipe" });
}, 120_000);

interface Report {
  done: number;
  most: number;
  refused: number;
  cleared: number;
}

function child(kind: string, mode: string, key: string, items: number, env: Record<string, string> = {}): Promise<Report> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(__dirname, "processes/limiter-child.mjs"), kind, mode, key, String(items)], { env: { ...process.env, ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`child failed: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Report);
    });
  });
}

async function cleanup(key: string) {
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${key}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
}

// The Redis broker (@dq/broker-redis) is not on this branch yet, so the processes coordinate through
// the real rate limiter directly rather than as dq workers consuming 200 messages.
for (const kind of ["redis", "memcached"] as const) {
  const server = kind === "redis" ? "Redis" : "Memcached";
  describeWithServer(server, `ConcurrentRateLimiter across 4 processes on ${server}`, () => {
    it("never has more than 3 holders at once, and all 200 items complete", async () => {
      const key = uniqueKey("dqrlmp");
      try {
        const reports = await Promise.all(Array.from({ length: 4 }, () => child(kind, "concurrent", key, 50)));
        expect(reports.map((r) => r.done)).toEqual([50, 50, 50, 50]);
        const most = Math.max(...reports.map((r) => r.most));
        expect(most).toBeLessThanOrEqual(3);
        // And the limit was really contended: the slots filled up and callers were turned away.
        expect(most).toBe(3);
        expect(reports.reduce((sum, r) => sum + r.refused, 0)).toBeGreaterThan(0);
        // Every slot was given back.
        const backend = kind === "redis" ? new RedisRateLimiterBackend({ url: REDIS_URL }) : new MemcachedRateLimiterBackend({ servers: MEMCACHED_SERVERS });
        try {
          expect(await backend.incr(key, 3, 3, 10_000)).toBe(true);
        } finally {
          await backend.close();
        }
      } finally {
        await cleanup(key);
      }
    }, 150_000);
  });

  describeWithServer(server, `Barrier across 2 processes on ${server}`, () => {
    it("is cleared by exactly one of 50 parties spread over two processes", async () => {
      const key = uniqueKey("dqrlbar");
      const backend = kind === "redis" ? new RedisRateLimiterBackend({ url: REDIS_URL }) : new MemcachedRateLimiterBackend({ servers: MEMCACHED_SERVERS });
      try {
        expect(await new Barrier(backend, key, { ttl: 60_000 }).create(50)).toBe(true);
        const reports = await Promise.all([child(kind, "barrier", key, 25), child(kind, "barrier", key, 25)]);
        expect(reports.map((r) => r.done)).toEqual([25, 25]);
        expect(reports.reduce((sum, r) => sum + r.cleared, 0)).toBe(1);
      } finally {
        await backend.close();
        await cleanup(key);
      }
    }, 150_000);
  });
}
