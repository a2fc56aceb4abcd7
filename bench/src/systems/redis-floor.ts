import { Redis } from "ioredis";
import { deletePrefix } from "../redis-util.js";
import type { SystemDriver } from "./system.js";

/**
 * Not a queue library: the floor of this machine, measured in the same run. The classic reliable
 * list queue with a bare ioredis client and no queue code at all: the producer LPUSHes the job's
 * index; each of `concurrency` worker loops BLMOVEs the oldest job to a processing list on its
 * own connection and LREMs it from there once done (the ack: one more round trip, as every
 * system here makes). No job data, ids, retries, scripts, events or middleware. What a system
 * measures above this row in B1 and B3 is its own cost; a target below it is out of reach on this
 * machine.
 */
export const redisFloor: SystemDriver = {
  id: "redis-floor",
  label: "bare ioredis list (floor)",
  server: "redis",
  // The round-trip-bound cases, where it is a floor. Its bulk push and drain are no ceiling: they
  // store nothing but the index, and its worker takes one job per round trip (no prefetch).
  cases: ["B1", "B3"],
  async createProducer(scope) {
    const redis = new Redis(scope.redisUrl, { maxRetriesPerRequest: 1 });
    const queue = `${scope.prefix}:queue`;
    return {
      async enqueue(index) {
        await redis.lpush(queue, index);
      },
      async enqueueBulk(from, count) {
        const indexes = new Array<number>(count);
        for (let i = 0; i < count; i++) indexes[i] = from + i;
        await redis.lpush(queue, ...indexes);
      },
      async close() {
        await redis.quit();
      },
    };
  },
  async startWorker(scope, concurrency, onComplete) {
    const queue = `${scope.prefix}:queue`;
    const processing = `${scope.prefix}:processing`;
    const acks = new Redis(scope.redisUrl, { maxRetriesPerRequest: 1 });
    const blocking = Array.from(
      { length: concurrency },
      () => new Redis(scope.redisUrl, { maxRetriesPerRequest: null }),
    );
    let closed = false;
    const loop = async (connection: Redis) => {
      while (!closed) {
        // A 1 s block, so that a closed worker notices even when no job comes.
        const job = await connection
          .blmove(queue, processing, "RIGHT", "LEFT", 1)
          .catch(() => null);
        if (job === null) continue;
        await acks.lrem(processing, 1, job);
        onComplete(Number(job));
      }
    };
    await Promise.all([acks, ...blocking].map((connection) => connection.ping()));
    const loops = blocking.map((connection) => loop(connection));
    return {
      async close() {
        closed = true;
        for (const connection of blocking) connection.disconnect();
        await Promise.all(loops);
        await acks.quit();
      },
    };
  },
  async cleanup(scope) {
    await deletePrefix(scope.redisUrl, scope.prefix);
  },
};
