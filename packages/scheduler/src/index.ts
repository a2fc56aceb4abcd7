/**
 * @dq/scheduler — cron and interval schedules for dq that fire exactly once per slot however many
 * schedulers run: leadership and state on Redis (`RedisSchedulerStore` from `@dq/scheduler/redis`) or on
 * RabbitMQ (`RabbitmqSchedulerStore` from `@dq/scheduler/rabbitmq`); fired messages are ordinary
 * Dramatiq messages.
 */
export { Scheduler } from "./scheduler.js";
export { schedule, globalSchedules, ScheduleRegistry } from "./registry.js";
export { runScheduler, storeFromEnv } from "./run.js";
export { SchedulerOutcomes } from "./outcomes.js";
export { slotMessageId, SCHEDULE_NAMESPACE } from "./message-id.js";
export {
  InvalidCronError,
  InvalidTimeZoneError,
  DuplicateScheduleError,
  ScheduleActorNotFound,
  UnknownScheduleError,
} from "./errors.js";

export type { ScheduleInfo, SchedulerOptions } from "./scheduler.js";
export type { ScheduleSpec, MisfirePolicy, StoredDefinition, CompiledSchedule } from "./spec.js";
export type { ScheduleRecord, SchedulerStore } from "./store.js";
export type { RunSchedulerOptions } from "./run.js";
