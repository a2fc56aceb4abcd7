/**
 * @dq/scheduler — cron and interval schedules for dq that fire exactly once per slot however many
 * schedulers run: leadership and state on Redis (`RedisSchedulerStore`) or on RabbitMQ
 * (`RabbitmqSchedulerStore`); fired messages are ordinary Dramatiq messages.
 */
export { Scheduler } from "./scheduler.js";
export { schedule, globalSchedules, ScheduleRegistry } from "./registry.js";
export { RedisSchedulerStore } from "./redis-store.js";
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
export type { RedisSchedulerStoreOptions } from "./redis-store.js";
