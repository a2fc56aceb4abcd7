import type { SystemId } from "../args.js";
import type { SystemDriver } from "./system.js";

// Loaded on demand, so that a worker child holds only its own system's libraries and its peak
// RSS is that system's, not the sum of all (importing every client costs ~55 MB).
const LOADERS: Record<SystemId, () => Promise<SystemDriver>> = {
  dq: async () => (await import("./dq-redis.js")).dqRedis,
  bullmq: async () => (await import("./bullmq.js")).bullmq,
  "bee-queue": async () => (await import("./bee-queue.js")).beeQueue,
  "dq-rabbitmq": async () => (await import("./dq-rabbitmq.js")).dqRabbitmq,
  "dq-rabbitmq-confirm": async () => (await import("./dq-rabbitmq.js")).dqRabbitmqConfirm,
  "redis-floor": async () => (await import("./redis-floor.js")).redisFloor,
  "rabbitmq-floor": async () => (await import("./rabbitmq-floor.js")).rabbitmqFloor,
  "dq-otel": async () => (await import("./dq-otel.js")).dqOtel,
};

/** The driver of a system. */
export function loadDriver(id: SystemId): Promise<SystemDriver> {
  return LOADERS[id]();
}
