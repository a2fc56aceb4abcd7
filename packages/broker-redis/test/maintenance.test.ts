import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { actor } from "@dq/core";
import { PrivateRedis, recordingLogger } from "@dq/core/testing";
import { Redis } from "ioredis";
import { RedisBroker } from "../src/index.js";
import { describeWithRedis, uniqueNamespace } from "./helpers.js";

/**
 * The dead-worker part of the maintenance in Python Dramatiq's `dispatch.lua`, reproduced here
 * (Python is not installed in this environment) from its algorithm: for each worker whose
 * heartbeat is older than the timeout, push every id of its ack set of *this* queue back on the
 * queue (Dramatiq tests `if redis.call("hexists", ...)`, which is always true in Lua, so it pushes
 * unconditionally), delete that ack set, then `KEYS <ns>:__acks__.<worker>*`: when none is left,
 * remove the worker's heartbeat entry.
 */
const PYTHON_MAINTENANCE = `
local namespace = KEYS[1]
local queue_name = ARGV[1]
local timestamp = tonumber(ARGV[2])
local heartbeat_timeout = tonumber(ARGV[3])
local heartbeats = namespace .. ":__heartbeats__"
local queue_full_name = namespace .. ":" .. queue_name
local dead_workers = redis.call("zrangebyscore", heartbeats, 0, timestamp - heartbeat_timeout)
for i = 1, #dead_workers do
  local worker_acks = namespace .. ":__acks__." .. dead_workers[i]
  local queue_acks = worker_acks .. "." .. queue_name
  local ids = redis.call("smembers", queue_acks)
  if #ids > 0 then
    for _, id in ipairs(ids) do
      redis.call("rpush", queue_full_name, id)
    end
    redis.call("del", queue_acks)
  end
  if #redis.call("keys", worker_acks .. "*") == 0 then
    redis.call("zrem", heartbeats, dead_workers[i])
  end
end
return #dead_workers
`;

function pythonMaintenance(
  redis: Redis,
  namespace: string,
  queueName: string,
  now: number,
  heartbeatTimeout: number,
): Promise<unknown> {
  return redis.eval(PYTHON_MAINTENANCE, 1, namespace, queueName, now, heartbeatTimeout);
}

// Issue 17 item 4: maintenance ran KEYS for every stale broker (39 s in a 1M-key Redis after 300
// short-lived producers), and every one-shot producer left a heartbeat entry behind.
describeWithRedis("RedisBroker maintenance", () => {
  let server: PrivateRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await PrivateRedis.start(["--enable-debug-command", "yes"]);
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  }, 30_000);

  afterAll(async () => {
    redis.disconnect();
    await server.destroy();
  });

  /** A dq worker that fetched messages of `q` and `q.DQ` and died (its ack sets and record stay). */
  async function deadWorker(
    namespace: string,
    queueName: string,
  ): Promise<{ brokerId: string; held: number; heldDelayed: number }> {
    const dead = new RedisBroker({
      url: server.url,
      namespace,
      maintenanceChance: 0,
      logger: recordingLogger(),
    });
    const work = actor(function maintained() {}, { broker: dead, queueName });
    try {
      await dead.enqueueMany(Array.from({ length: 20 }, () => work.message()));
      await dead.enqueueMany(
        Array.from({ length: 5 }, () => work.message()),
        { delay: 3_600_000 },
      );
      const held =
        ((await dead.dispatchBuffers(queueName, "fetch", [10, 0])) as unknown[]).length / 2;
      const heldDelayed =
        ((await dead.dispatchBuffers(`${queueName}.DQ`, "fetch", [5, 0])) as unknown[]).length / 2;
      return { brokerId: dead.brokerId, held, heldDelayed };
    } finally {
      await dead.close(); // no consumer: nothing is returned, as with a SIGKILL
    }
  }

  it("does not register one-shot producers in __heartbeats__", async () => {
    const namespace = uniqueNamespace();
    const producer = new RedisBroker({ url: server.url, namespace, maintenanceChance: 0 });
    const work = actor(function produced() {}, { broker: producer, queueName: "produced" });
    try {
      await work.send();
      await producer.enqueueMany([work.message(), work.message()]);
      await work.sendWithOptions({ delay: 60_000 });
      expect(await redis.zcard(`${namespace}:__heartbeats__`)).toBe(0);
    } finally {
      await producer.close();
    }
  });

  it("stays fast in a 1M-key Redis with 300 stale entries, and recovers a dead dq worker's messages", async () => {
    const namespace = uniqueNamespace();
    const queueName = "big";
    await redis.call("DEBUG", "POPULATE", "1000000", "unrelated");
    expect(await redis.dbsize()).toBeGreaterThanOrEqual(1_000_000);
    const heartbeats = `${namespace}:__heartbeats__`;
    // 150 entries as left by producers of Python or of an earlier dq (no record), and 150 dq
    // workers that died idle (a record, no ack set).
    for (let index = 0; index < 150; index++) {
      await redis.zadd(heartbeats, 1, `producer-${randomUUID()}`);
      const id = randomUUID();
      await redis.zadd(heartbeats, 1, id);
      await redis.sadd(`${namespace}:__consumed__.${id}`, queueName, `${queueName}.DQ`);
    }
    const dead = await deadWorker(namespace, queueName);
    expect(dead.held).toBe(10);
    await redis.zadd(heartbeats, 1, dead.brokerId);
    expect(await redis.zcard(heartbeats)).toBe(301);

    const live = new RedisBroker({
      url: server.url,
      namespace,
      maintenanceChance: 1_000_000,
      logger: recordingLogger(),
    });
    const timings: number[] = [];
    try {
      for (let call = 0; call < 30; call++) {
        const started = process.hrtime.bigint();
        await live.dispatch(queueName, "qsize");
        timings.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
    } finally {
      await live.close();
    }
    const sorted = [...timings].sort((a, b) => a - b);
    process.stdout.write(
      `maintenance round trips in a 1M-key Redis with 301 stale entries (ms): first ${timings[0]!.toFixed(2)}, ` +
        `median ${sorted[15]!.toFixed(2)}, max ${sorted[29]!.toFixed(2)}\n`,
    );
    for (const time of timings) expect(time).toBeLessThan(50);

    // The dead worker's messages of both queues are back, its ack sets, record and entry gone.
    expect(await redis.llen(`${namespace}:${queueName}`)).toBe(20);
    expect(await redis.llen(`${namespace}:${queueName}.DQ`)).toBe(5);
    expect(
      await redis.exists(
        `${namespace}:__acks__.${dead.brokerId}.${queueName}`,
        `${namespace}:__acks__.${dead.brokerId}.${queueName}.DQ`,
      ),
    ).toBe(0);
    expect(await redis.exists(`${namespace}:__consumed__.${dead.brokerId}`)).toBe(0);
    expect(await redis.zscore(heartbeats, dead.brokerId)).toBeNull();
    // The idle dead workers' entries went with their records; the entries without one wait for
    // the SCAN pass (1M keys: many calls) or for a Python worker's maintenance.
    expect(await redis.zcard(heartbeats)).toBe(150);
    expect((await redis.zrange(heartbeats, 0, -1)).every((id) => id.startsWith("producer-"))).toBe(
      true,
    );
    expect(await redis.exists(`${namespace}:__maintenance__`)).toBe(1);
    await redis.call("FLUSHDB"); // the private server's keys only
  }, 120_000);

  it("leaves a dead dq worker's messages to Python's maintenance, which requeues them and removes its entry", async () => {
    const namespace = uniqueNamespace();
    const queueName = "py";
    const dead = await deadWorker(namespace, queueName);
    const later = Date.now() + 3_600_000;
    await pythonMaintenance(redis, namespace, queueName, later, 60_000);
    expect(await redis.llen(`${namespace}:${queueName}`)).toBe(20);
    expect(await redis.exists(`${namespace}:__acks__.${dead.brokerId}.${queueName}`)).toBe(0);
    // Its delay queue's ack set keeps the entry, as in Dramatiq, until maintenance on that queue.
    expect(await redis.zscore(`${namespace}:__heartbeats__`, dead.brokerId)).not.toBeNull();
    await pythonMaintenance(redis, namespace, `${queueName}.DQ`, later, 60_000);
    expect(await redis.llen(`${namespace}:${queueName}.DQ`)).toBe(5);
    expect(await redis.zscore(`${namespace}:__heartbeats__`, dead.brokerId)).toBeNull();
    // dq's record is not matched by Python's KEYS pattern; it expires by itself.
    expect(await redis.pttl(`${namespace}:__consumed__.${dead.brokerId}`)).toBeGreaterThan(0);
  });

  it("removes a stale entry without record once a SCAN pass finds no ack set of it, and keeps one that has", async () => {
    const namespace = uniqueNamespace();
    const heartbeats = `${namespace}:__heartbeats__`;
    const idle = `python-${randomUUID()}`;
    const holding = `python-${randomUUID()}`;
    await redis.zadd(heartbeats, 1, idle, 1, holding);
    // A Python worker that died holding a message of a queue this dq broker never declared.
    await redis.hset(`${namespace}:other.msgs`, "m1", "{}");
    await redis.sadd(`${namespace}:__acks__.${holding}.other`, "m1");
    const live = new RedisBroker({
      url: server.url,
      namespace,
      maintenanceChance: 1_000_000,
      logger: recordingLogger(),
    });
    try {
      for (let call = 0; call < 50 && (await redis.zscore(heartbeats, idle)) !== null; call++)
        await live.dispatch("mine", "qsize");
      expect(await redis.zscore(heartbeats, idle)).toBeNull();
      expect(await redis.zscore(heartbeats, holding)).not.toBeNull();
      expect(await redis.smembers(`${namespace}:__acks__.${holding}.other`)).toEqual(["m1"]);
      // Maintenance on that queue returns the message as Dramatiq's would; a later pass removes the entry.
      await live.dispatch("other", "qsize");
      expect(await redis.lrange(`${namespace}:other`, 0, -1)).toEqual(["m1"]);
      for (let call = 0; call < 50 && (await redis.zscore(heartbeats, holding)) !== null; call++)
        await live.dispatch("mine", "qsize");
      expect(await redis.zscore(heartbeats, holding)).toBeNull();
    } finally {
      await live.close();
    }
  });
});
