// A dq worker PROCESS: a `Worker` on a `RedisBroker`, all from the BUILT packages (build first).
// env: REDIS_URL, MEMCACHED_SERVERS, DQ_TEST_NAMESPACE, DQ_TEST_QUEUE, DQ_TEST_WORKER (a label),
//      DQ_TEST_MODE (concurrent | group), DQ_TEST_BACKEND (redis | memcached; the rate-limiter backend)
// Everything it observes goes into Redis keys under `<namespace>:`; on SIGTERM it stops the worker,
// closes its connections and exits 0. Errors go to stderr, which the test shows only on failure.
import { actor, defaultMiddleware, RateLimitExceeded, Worker } from "@dq/core";
import { RedisBroker } from "@dq/broker-redis";
import { ConcurrentRateLimiter, GroupCallbacks } from "../../dist/index.js";

const env = process.env;
const redisUrl = env.REDIS_URL ?? "redis://127.0.0.1:6379";
const namespace = env.DQ_TEST_NAMESPACE;
const queueName = env.DQ_TEST_QUEUE;
const workerLabel = env.DQ_TEST_WORKER;
const mode = env.DQ_TEST_MODE;
if (!namespace || !queueName || !workerLabel || !mode)
  throw new Error("missing DQ_TEST_* environment");

const backend =
  env.DQ_TEST_BACKEND === "memcached"
    ? new (await import("../../dist/memcached.js")).MemcachedRateLimiterBackend({
        servers: env.MEMCACHED_SERVERS ?? "127.0.0.1:11211",
      })
    : new (await import("../../dist/redis.js")).RedisRateLimiterBackend({ url: redisUrl });

const quiet = {
  debug() {},
  info() {},
  warn() {},
  error: (...args) => process.stderr.write(`${args.map(String).join(" ")}\n`),
};
const middleware =
  mode === "group"
    ? [...defaultMiddleware(), new GroupCallbacks(backend, { barrierTtl: 120_000 })]
    : defaultMiddleware();
const broker = new RedisBroker({ url: redisUrl, namespace, logger: quiet, middleware });
const redis = broker.client;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const key = (name) => `${namespace}:${name}`;

// INCR the number of holders and raise the recorded maximum, atomically.
const ENTER = `local inside = redis.call('INCR', KEYS[1])
if inside > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], inside) end
return inside`;

async function finished(i) {
  await redis
    .multi()
    .sadd(key("done"), String(i))
    .incr(key("runs"))
    .hincrby(key("by-worker"), workerLabel, 1)
    .exec();
}

if (mode === "concurrent") {
  // The limiter key is used verbatim (as in Dramatiq), so it carries the namespace itself.
  const limiter = new ConcurrentRateLimiter(backend, key("limit"), { limit: 3, ttl: 120_000 });
  actor(
    async function limited_work(i) {
      try {
        await limiter.acquire({}, async () => {
          await redis.eval(ENTER, 2, key("inside"), key("most"));
          await sleep(2 + Math.random() * 8);
          await redis.decr(key("inside"));
        });
      } catch (error) {
        // Refused: count it, and let Retries re-enqueue the message (Dramatiq's pattern).
        if (error instanceof RateLimitExceeded) await redis.incr(key("refused"));
        throw error;
      }
      await finished(i);
    },
    { broker, queueName, maxRetries: 10_000, minBackoff: 5, maxBackoff: 50 },
  );
} else {
  actor(
    async function group_child(i) {
      await sleep(5 + Math.random() * 10);
      await finished(i);
    },
    { broker, queueName, maxRetries: 0 },
  );
  actor(
    async function group_done(label) {
      await redis.rpush(key("fired"), `${label} by ${workerLabel}`);
    },
    { broker, queueName, maxRetries: 0 },
  );
}

const worker = new Worker(broker, { concurrency: 2, queuePrefetch: 2, workerTimeout: 50 });
await worker.start();
process.once("SIGTERM", async () => {
  try {
    await worker.stop({ timeout: 10_000 });
    await broker.close();
    await backend.close();
    process.exit(0);
  } catch (error) {
    process.stderr.write(`stopping failed: ${error?.stack ?? error}\n`);
    process.exit(1);
  }
});
process.send?.("started");
