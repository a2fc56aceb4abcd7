// Running a scheduler from the environment: what the `dq-scheduler` command and `dq --scheduler` do
// once the user's modules (which declare the broker, the actors and the schedules) are imported.
import { getBrokerAsync, getLogger, InvalidOptionError, type Logger } from "@dq/core";
import { envInteger } from "@dq/core/adapter";
import { Scheduler } from "./scheduler.js";
import type { SchedulerStore } from "./store.js";

/** Options of `runScheduler` (each defaults from the environment; see the README). */
export interface RunSchedulerOptions {
  /** Where leadership and state live (default: from `DQ_SCHEDULER_URL`, else `DQ_BROKER_URL`). */
  store?: SchedulerStore;
  leaseTtlMs?: number;
  misfireGraceMs?: number;
  logger?: Logger;
}

/**
 * The store that `DQ_SCHEDULER_URL` (else `DQ_BROKER_URL`) names: `redis://`/`rediss://` gives a
 * `RedisSchedulerStore`, `amqp://`/`amqps://` a `RabbitmqSchedulerStore`; key and queue names
 * start with `DQ_SCHEDULER_PREFIX` (default `dq-scheduler`).
 * @throws InvalidOptionError when neither variable is set or the scheme is neither
 */
export async function storeFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<SchedulerStore> {
  const url = env.DQ_SCHEDULER_URL || env.DQ_BROKER_URL;
  const prefix = env.DQ_SCHEDULER_PREFIX || undefined;
  if (!url)
    throw new InvalidOptionError(
      "the scheduler needs a store: set DQ_SCHEDULER_URL (redis://... or amqp://...) or DQ_BROKER_URL",
      { option: "DQ_SCHEDULER_URL" },
    );
  if (/^rediss?:/i.test(url)) {
    const { RedisSchedulerStore } = await import("./redis-store.js");
    return new RedisSchedulerStore({ url, prefix });
  }
  if (/^amqps?:/i.test(url)) {
    const { RabbitmqSchedulerStore } = await import("./rabbitmq-store.js");
    return new RabbitmqSchedulerStore({ url, prefix });
  }
  throw new InvalidOptionError(
    `the scheduler's store URL must start with redis://, rediss://, amqp:// or amqps:// (got ${JSON.stringify(url.replace(/\/\/[^@/]*@/, "//***@"))})`,
    { option: "DQ_SCHEDULER_URL" },
  );
}

/**
 * Starts a Scheduler for the schedules declared with `schedule()`, on the global broker.
 * `DQ_SCHEDULER_LEASE_TTL` and `DQ_SCHEDULER_MISFIRE_GRACE` (ms) set its timings.
 * @returns the running scheduler (`close()` stops it)
 * @throws ScheduleActorNotFound when a schedule's actor is not declared
 */
export async function runScheduler(options: RunSchedulerOptions = {}): Promise<Scheduler> {
  const store = options.store ?? (await storeFromEnv());
  const broker = await getBrokerAsync();
  const scheduler = new Scheduler({
    store,
    broker,
    leaseTtlMs: options.leaseTtlMs ?? envInteger("DQ_SCHEDULER_LEASE_TTL", 10_000),
    misfireGraceMs:
      options.misfireGraceMs ??
      (process.env.DQ_SCHEDULER_MISFIRE_GRACE
        ? envInteger("DQ_SCHEDULER_MISFIRE_GRACE", 0)
        : undefined),
    logger: options.logger ?? getLogger("dq.Scheduler"),
  });
  try {
    await scheduler.start();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return scheduler;
}
