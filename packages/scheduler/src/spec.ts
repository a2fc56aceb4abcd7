// What `schedule(name, spec)` takes, its validation at declaration, and the stored (run-time)
// edits that may replace parts of it.
import { InvalidOptionError, type MessageFields } from "@dq/core";
import { z } from "zod";
import { cronTiming, everyTiming, type Timing } from "./timing.js";

/** What happens to slots missed while no scheduler ran (past the scheduler's `misfireGraceMs`). */
export type MisfirePolicy = "skip" | "once" | "all";

/**
 * One schedule: when (`cron` or `everyMs`), what (`actor`, and each message's `args`, `kwargs` and
 * `options`, as a message has them), and how.
 */
export interface ScheduleSpec extends Pick<MessageFields, "args" | "kwargs" | "options"> {
  /** A cron expression, five fields or six with seconds first (`*\/5 * * * * *`), read by croner. */
  cron?: string;
  /** Fire every this many ms, at multiples of it since the UNIX epoch (instead of `cron`). */
  everyMs?: number;
  /** The IANA time zone the cron expression is read in (default: UTC). */
  tz?: string;
  /** The name of the actor to send to; it must be declared on the broker by `start()`. */
  actor: string;
  /** Missed slots after downtime: `skip` (default) none, `once` one catch-up, `all` each (at most `maxCatchUp`). */
  misfire?: MisfirePolicy;
  /** Delay each fired message by a random-looking 0..jitterMs ms, the same for a slot in every process. */
  jitterMs?: number;
  /** `false` declares the schedule without firing it (default true). */
  enabled?: boolean;
}

/** A stored edit of a schedule: its fields win over the code's only with `override: true`. */
export type StoredDefinition = Partial<Omit<ScheduleSpec, "actor">> & {
  actor?: string;
  override?: boolean;
};

const specSchema = z.strictObject({
  cron: z.string().min(1).optional(),
  everyMs: z.number().int().positive().optional(),
  tz: z.string().min(1).optional(),
  actor: z.string().min(1),
  args: z.array(z.unknown()).readonly().optional(),
  kwargs: z.record(z.string(), z.unknown()).optional(),
  options: z.record(z.string(), z.unknown()).optional(),
  misfire: z.enum(["skip", "once", "all"]).optional(),
  jitterMs: z.number().int().nonnegative().optional(),
  enabled: z.boolean().optional(),
});

/** A validated schedule with its timing. */
export interface CompiledSchedule {
  name: string;
  spec: Readonly<ScheduleSpec>;
  timing: Timing;
  misfire: MisfirePolicy;
}

/**
 * Validates a spec and builds its timing.
 * @throws InvalidCronError, InvalidTimeZoneError or InvalidOptionError naming the bad value
 */
export function compileSchedule(name: string, spec: ScheduleSpec): CompiledSchedule {
  if (typeof name !== "string" || name.length === 0 || name.includes("\n"))
    throw new InvalidOptionError(`invalid schedule name ${JSON.stringify(name)}`, {
      option: "name",
      value: name,
    });
  const parsed = specSchema.safeParse(spec);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.join(".") || "spec";
      const value = issue.path.reduce<unknown>(
        (at, part) => (at as Record<PropertyKey, unknown> | undefined)?.[part],
        spec,
      );
      return `${key}: ${issue.message} (got ${JSON.stringify(value) ?? String(value)})`;
    });
    throw new InvalidOptionError(
      `schedule ${JSON.stringify(name)}: invalid spec: ${problems.join("; ")}`,
      { cause: parsed.error },
    );
  }
  if ((spec.cron === undefined) === (spec.everyMs === undefined))
    throw new InvalidOptionError(
      `schedule ${JSON.stringify(name)}: give exactly one of cron and everyMs (got ${spec.cron === undefined ? "neither" : "both"})`,
      { option: "cron" },
    );
  if (spec.everyMs !== undefined && spec.tz !== undefined)
    throw new InvalidOptionError(
      `schedule ${JSON.stringify(name)}: tz applies to cron schedules only (got tz ${JSON.stringify(spec.tz)} with everyMs)`,
      { option: "tz", value: spec.tz },
    );
  const timing =
    spec.cron !== undefined ? cronTiming(name, spec.cron, spec.tz) : everyTiming(spec.everyMs!);
  return { name, spec: Object.freeze({ ...spec }), timing, misfire: spec.misfire ?? "skip" };
}

/** The code's spec with a stored definition applied when it is marked `override: true`. */
export function effectiveSpec(
  code: ScheduleSpec,
  stored: StoredDefinition | undefined,
): ScheduleSpec {
  if (!stored?.override) return code;
  const { override: _override, ...fields } = stored;
  const merged: ScheduleSpec = { ...code, ...fields };
  // A stored cron replaces a coded everyMs and the other way round.
  if (fields.cron !== undefined && fields.everyMs === undefined) delete merged.everyMs;
  if (fields.everyMs !== undefined && fields.cron === undefined) {
    delete merged.cron;
    delete merged.tz;
  }
  return merged;
}
