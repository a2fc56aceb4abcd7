import BeeQueue from "bee-queue";
import { deletePrefix } from "../redis-util.js";
import { redisEndpoint, type Scope, type SystemDriver } from "./system.js";

const QUEUE = "bench";

// No built-in events (the harness has its own signal), no job map in the producer, and finished
// jobs removed, as dq and BullMQ (removeOnComplete) do here.
function settings(scope: Scope, isWorker: boolean): BeeQueue.QueueSettings {
  return {
    prefix: scope.prefix,
    redis: redisEndpoint(scope.redisUrl),
    isWorker,
    getEvents: false,
    sendEvents: false,
    storeJobs: false,
    activateDelayedJobs: false,
    removeOnSuccess: true,
    removeOnFailure: true,
  };
}

/** bee-queue: `createJob().save()` one at a time, `saveAll` in bulk, `process(concurrency)`. */
export const beeQueue: SystemDriver = {
  id: "bee-queue",
  label: "bee-queue",
  server: "redis",
  async createProducer(scope) {
    const queue = new BeeQueue<{ i: number }>(QUEUE, settings(scope, false));
    await queue.ready();
    return {
      async enqueue(index) {
        await queue.createJob({ i: index }).save();
      },
      async enqueueBulk(from, count) {
        const jobs = new Array<BeeQueue.Job<{ i: number }>>(count);
        for (let i = 0; i < count; i++) jobs[i] = queue.createJob({ i: from + i });
        const errors = await queue.saveAll(jobs);
        if (errors.size > 0)
          throw new Error(
            `bee-queue saveAll failed for ${errors.size} jobs: ${String([...errors.values()][0])}`,
          );
      },
      close: () => queue.close(),
    };
  },
  async startWorker(scope, concurrency, onComplete) {
    const queue = new BeeQueue<{ i: number }>(QUEUE, settings(scope, true));
    queue.on("succeeded", (job) => onComplete(job.data.i));
    queue.on("error", () => undefined);
    queue.process(concurrency, async () => undefined);
    await queue.ready();
    return { close: () => queue.close() };
  },
  async cleanup(scope) {
    await deletePrefix(scope.redisUrl, scope.prefix);
  },
};
