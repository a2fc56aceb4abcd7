/**
 * One schedule as a scheduler reports it and a dashboard lists it (times in UNIX ms): the contract
 * between `@dq/scheduler` (or another scheduler) and `@dq/dashboard`, which do not depend on each other.
 */
export interface ScheduleInfo {
  name: string;
  cron?: string;
  everyMs?: number;
  tz?: string;
  actor: string;
  enabled: boolean;
  paused: boolean;
  nextRun?: number;
  lastRun?: number;
  lastOutcome?: string;
}
