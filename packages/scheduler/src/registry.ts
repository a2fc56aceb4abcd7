import { DuplicateScheduleError } from "./errors.js";
import { compileSchedule, type CompiledSchedule, type ScheduleSpec } from "./spec.js";

/** Named schedules, each validated when declared. */
export class ScheduleRegistry {
  readonly schedules = new Map<string, CompiledSchedule>();

  /**
   * Declares a schedule.
   * @throws DuplicateScheduleError when the name is taken; InvalidCronError, InvalidTimeZoneError
   * or InvalidOptionError for a bad spec (each naming the value)
   */
  add(name: string, spec: ScheduleSpec): CompiledSchedule {
    if (this.schedules.has(name))
      throw new DuplicateScheduleError(
        `a schedule named ${JSON.stringify(name)} is already declared (schedule names must be unique)`,
        { option: "name", value: name },
      );
    const compiled = compileSchedule(name, spec);
    this.schedules.set(name, compiled);
    return compiled;
  }
}

const GLOBAL = Symbol.for("dq.scheduler.globalSchedules");

/**
 * The schedules that `schedule()` declares, which every Scheduler runs unless told otherwise (one
 * registry per process, even when two copies of this package are loaded).
 */
export const globalSchedules: ScheduleRegistry = ((globalThis as Record<symbol, unknown>)[
  GLOBAL
] ??= new ScheduleRegistry()) as ScheduleRegistry;

/**
 * Declares a schedule on the global registry (what `dq-scheduler <module>` and `dq --scheduler`
 * run). See `ScheduleSpec`.
 * @example schedule("nightly-report", { cron: "0 3 * * *", tz: "Europe/Paris", actor: "report" })
 * @throws DuplicateScheduleError, InvalidCronError, InvalidTimeZoneError, InvalidOptionError
 */
export function schedule(name: string, spec: ScheduleSpec): void {
  globalSchedules.add(name, spec);
}
