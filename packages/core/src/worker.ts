/** The worker: re-exported from `./worker/` so that existing imports keep working. */
export { Worker } from "./worker/worker.js";
export type { WorkerOptions, IsolationOptions } from "./worker/worker-options.js";
