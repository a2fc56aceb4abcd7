import type { SystemId } from "../args.js";
import { beeQueue } from "./bee-queue.js";
import { bullmq } from "./bullmq.js";
import { dqRabbitmq } from "./dq-rabbitmq.js";
import { dqRedis } from "./dq-redis.js";
import type { SystemDriver } from "./system.js";

/** Every system, by id. */
export const DRIVERS: Record<SystemId, SystemDriver> = {
  dq: dqRedis,
  bullmq,
  "bee-queue": beeQueue,
  "dq-rabbitmq": dqRabbitmq,
};
