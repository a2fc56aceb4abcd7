// When a schedule's slots fall: croner for cron expressions (seconds field, time zones, DST), and
// epoch-aligned multiples for `everyMs`, so that every scheduler process computes the same slots.
import { Cron } from "croner";
import { InvalidCronError, InvalidTimeZoneError } from "./errors.js";

/** The slots of one schedule, as UNIX ms. */
export interface Timing {
  /** The first slot strictly after `after`, or undefined when there is none (a cron's last date). */
  next(after: number): number | undefined;
}

/** Checks a time zone name. @throws InvalidTimeZoneError naming it */
export function checkTimeZone(schedule: string, tz: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
  } catch (error) {
    throw new InvalidTimeZoneError(
      `schedule ${JSON.stringify(schedule)}: invalid time zone ${JSON.stringify(tz)} (expected an IANA name such as "Europe/Paris" or "UTC")`,
      { cause: error, option: "tz", value: tz, expected: "an IANA time zone name" },
    );
  }
}

/** A croner-backed timing. @throws InvalidCronError naming the expression */
export function cronTiming(schedule: string, expression: string, tz: string | undefined): Timing {
  if (tz !== undefined) checkTimeZone(schedule, tz);
  let cron: Cron;
  try {
    cron = new Cron(expression, { paused: true, ...(tz === undefined ? {} : { timezone: tz }) });
  } catch (error) {
    throw new InvalidCronError(
      `schedule ${JSON.stringify(schedule)}: invalid cron expression ${JSON.stringify(expression)}: ${(error as Error).message}`,
      { cause: error, option: "cron", value: expression, expected: "a cron expression" },
    );
  }
  return {
    next(after) {
      return cron.nextRun(new Date(after))?.getTime();
    },
  };
}

/** Slots at the multiples of `everyMs` since the UNIX epoch (the same in every process). */
export function everyTiming(everyMs: number): Timing {
  return { next: (after) => (Math.floor(after / everyMs) + 1) * everyMs };
}

/** The slots in `(after, until]` from `after` on, keeping the latest `max`; stops after `scanLimit`. */
function scan(timing: Timing, after: number, until: number, max: number, scanLimit: number) {
  const slots: number[] = [];
  let total = 0;
  for (let cursor = after; ;) {
    if (total >= scanLimit) return { slots, total, complete: false };
    const slot = timing.next(cursor);
    if (slot === undefined || slot > until) return { slots, total, complete: true };
    slots.push(slot);
    if (slots.length > max) slots.shift();
    total++;
    cursor = slot;
  }
}

/**
 * The slots in `(after, until]`, at most `max` of them: the latest ones when there are more
 * (`dropped` then says so). A long downtime of a frequent schedule is not walked slot by slot:
 * past `scanLimit` slots, the latest ones are found in a window ending at `until` that widens
 * until it holds `max` of them.
 */
export function slotsBetween(
  timing: Timing,
  after: number,
  until: number,
  max: number,
  scanLimit = 10_000,
): { slots: number[]; dropped: boolean } {
  const first = scan(timing, after, until, max, Math.max(scanLimit, max));
  if (first.complete) return { slots: first.slots, dropped: first.total > max };
  for (let width = 1000; ; width *= 4) {
    const start = Math.max(after, until - width);
    const found = scan(timing, start, until, max, Math.max(scanLimit, max));
    // (An incomplete scan cannot happen here: a window that finds `max` slots stops widening.)
    if (!found.complete || found.total >= max || start === after)
      return { slots: found.slots, dropped: true };
  }
}
