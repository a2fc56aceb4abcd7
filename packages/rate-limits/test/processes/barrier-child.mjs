// A separate OS process arriving at a Memcached barrier (no dq worker: see multi-process.test.ts).
// Imports the BUILT package. argv: <key> <parties in this process>. Prints {done, cleared} as JSON.
import { Redis } from "ioredis";
import { Barrier } from "../../dist/index.js";
import { MemcachedRateLimiterBackend } from "../../dist/memcached.js";

const [key, itemsText] = process.argv.slice(2);
const items = Number(itemsText);
const backend = new MemcachedRateLimiterBackend({
  servers: process.env.MEMCACHED_SERVERS ?? "127.0.0.1:11211",
});
// Both processes arrive together: a Redis counter is the start line.
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const deadline = Date.now() + 90_000;

await redis.incr(`${key}:ready`);
while (Number(await redis.get(`${key}:ready`)) < 2 && Date.now() < deadline) await sleep(5);
const barrier = new Barrier(backend, key, { ttl: 60_000 });
const results = await Promise.all(
  Array.from({ length: items }, () => barrier.wait({ block: false })),
);
process.stdout.write(
  JSON.stringify({ done: results.length, cleared: results.filter(Boolean).length }),
);
await backend.close();
await redis.quit();
