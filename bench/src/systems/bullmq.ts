import { Queue, Worker } from "bullmq";
import { deletePrefix } from "../redis-util.js";
import { redisEndpoint, type SystemDriver } from "./system.js";

const QUEUE = "bench";

// Completed and failed jobs are removed, as dq and bee-queue (removeOnSuccess) do here, so each
// system does the same work per job: store, fetch, finish, delete.
const jobOptions = { removeOnComplete: true, removeOnFail: true };

/** BullMQ: `add` one at a time, `addBulk` in bulk, a `Worker` with `concurrency`. */
export const bullmq: SystemDriver = {
  id: "bullmq",
  label: "BullMQ",
  server: "redis",
  async createProducer(scope) {
    const queue = new Queue(QUEUE, {
      connection: redisEndpoint(scope.redisUrl),
      prefix: scope.prefix,
      defaultJobOptions: jobOptions,
    });
    await queue.waitUntilReady();
    return {
      async enqueue(index) {
        await queue.add("noop", { i: index });
      },
      async enqueueBulk(from, count) {
        const jobs = new Array<{ name: string; data: { i: number } }>(count);
        for (let i = 0; i < count; i++) jobs[i] = { name: "noop", data: { i: from + i } };
        await queue.addBulk(jobs);
      },
      close: () => queue.close(),
    };
  },
  async startWorker(scope, concurrency, onComplete) {
    const worker = new Worker(QUEUE, async () => undefined, {
      connection: { ...redisEndpoint(scope.redisUrl), maxRetriesPerRequest: null },
      prefix: scope.prefix,
      concurrency,
    });
    worker.on("completed", (job) => onComplete((job.data as { i: number }).i));
    await worker.waitUntilReady();
    return { close: () => worker.close() };
  },
  async cleanup(scope) {
    await deletePrefix(scope.redisUrl, scope.prefix);
  },
};
