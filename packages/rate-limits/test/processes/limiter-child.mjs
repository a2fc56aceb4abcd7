// A separate OS process sharing a rate limiter through a real server. Imports the BUILT package.
// argv: <redis|memcached> <mode: concurrent|barrier> <key> <items>
import { Redis } from "ioredis";
import { Barrier, ConcurrentRateLimiter } from "../../dist/index.js";

const [kind, mode, key, itemsText] = process.argv.slice(2);
const items = Number(itemsText);
const backend =
  kind === "redis"
    ? new (await import("../../dist/redis.js")).RedisRateLimiterBackend({ url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" })
    : new (await import("../../dist/memcached.js")).MemcachedRateLimiterBackend({ servers: process.env.MEMCACHED_SERVERS ?? "127.0.0.1:11211" });
// The instrument: a Redis counter of how many processes are inside the critical section right now.
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const report = { done: 0, most: 0, refused: 0, cleared: 0 };
const deadline = Date.now() + 90_000;

if (mode === "concurrent") {
  const limiter = new ConcurrentRateLimiter(backend, key, { limit: 3, ttl: 120_000 });
  // Two items at a time per process, so 4 processes contend for 3 slots from 8 callers.
  let claimed = 0;
  async function lane() {
    while (claimed < items) {
      claimed++;
      // Retry this item until it gets a slot (bounded by the deadline).
      while (Date.now() < deadline) {
        const ran = await limiter.acquire({ raiseOnFailure: false }, async () => {
          const inside = await redis.incr(`${key}:inside`);
          report.most = Math.max(report.most, inside);
          await sleep(2 + Math.random() * 6);
          await redis.decr(`${key}:inside`);
        });
        if (ran) {
          report.done++;
          break;
        }
        report.refused++;
        await sleep(1 + Math.random() * 3);
      }
    }
  }
  await Promise.all([lane(), lane()]);
} else {
  await redis.incr(`${key}:ready`);
  while (Number(await redis.get(`${key}:ready`)) < Number(process.env.PARTIES_PROCESSES ?? 2) && Date.now() < deadline) await sleep(5);
  const barrier = new Barrier(backend, key, { ttl: 60_000 });
  const results = await Promise.all(Array.from({ length: items }, () => barrier.wait({ block: false })));
  report.cleared = results.filter(Boolean).length;
  report.done = results.length;
}

process.stdout.write(JSON.stringify(report));
await backend.close();
await redis.quit();
