import { createHash } from "node:crypto";
import { canonicalQueueName, editDistance, type OptionValidator } from "@dq/core/adapter";

/** What a unique message does about an earlier message holding its lock. */
export type UniqueMode = "drop" | "replace" | "debounce";

/** When a unique message's lock is released. */
export type UniqueUntil = "started" | "finished";

/**
 * The `unique` message and actor option, read by the `Unique` middleware.
 * @example actor(fn, { unique: { ttl: 60_000, until: "finished", mode: "drop" } })
 */
export interface UniqueOptions {
  /**
   * The lock's name (default: a SHA-256 of the actor, queue, args and kwargs, so equal jobs share
   * a lock). A key given here is global: two actors using one key share one lock.
   */
  key?: string;
  /**
   * How long the lock can live, in ms, counted from when the message that last took it is due
   * (send time + delay): an upper bound on everything. A `replace`/`debounce` message still
   * queued when its lock expires is skipped, so make it longer than a message may wait.
   */
  ttl: number;
  /**
   * `"started"`: the lock is released when the message starts processing (no two pending copies);
   * `"finished"`: when it succeeds or fails for good (no two copies pending or running). Retries
   * keep the lock in both cases.
   */
  until: UniqueUntil;
  /**
   * `"drop"`: while the lock is held, a new send is not enqueued (`isDuplicate(sent)` is true);
   * `"replace"` / `"debounce"`: every send takes the lock, and a message that no longer holds it
   * is acked and skipped when a worker receives it (with a delay, debounce runs once, with the
   * last arguments, after the sends go quiet).
   */
  mode: UniqueMode;
}

declare module "@dq/core" {
  interface MiddlewareMessageOptions {
    /** Unique (`@dq/rate-limits`): at most one pending (or running) message per key. */
    unique?: UniqueOptions | null;
  }
}

const FIELDS = ["key", "ttl", "until", "mode"] as const;
const MODES: readonly string[] = ["drop", "replace", "debounce"];
const UNTILS: readonly string[] = ["started", "finished"];
const SHAPE =
  '{ key?: a non-empty string, ttl: an integer number of ms > 0, until: "started" | "finished", mode: "drop" | "replace" | "debounce" }';

/** @returns what is wrong with a `unique` option value, or undefined when it is valid */
export function uniqueProblem(value: unknown): string | undefined {
  if (value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) return "not an object";
  const fields = value as Record<string, unknown>;
  for (const name of Object.keys(fields)) {
    if ((FIELDS as readonly string[]).includes(name)) continue;
    const close = FIELDS.find((field) => editDistance(name, field) <= 2);
    return `unknown field ${JSON.stringify(name)}${close ? ` (did you mean ${close}?)` : ""}`;
  }
  const { key, ttl, until, mode } = fields;
  if (key !== undefined && (typeof key !== "string" || key.length === 0))
    return `key ${show(key)} is not a non-empty string`;
  if (typeof ttl !== "number" || !Number.isSafeInteger(ttl) || ttl <= 0)
    return `ttl ${show(ttl)} is not an integer number of ms > 0`;
  if (typeof until !== "string" || !UNTILS.includes(until))
    return `until ${show(until)} is not "started" or "finished"`;
  if (typeof mode !== "string" || !MODES.includes(mode))
    return `mode ${show(mode)} is not "drop", "replace" or "debounce"`;
  return undefined;
}

function show(value: unknown): string {
  return value === undefined ? "(missing)" : JSON.stringify(value);
}

/**
 * The validator of the `unique` option: its `expected` names the last problem found, so the error
 * core raises says which field is wrong (`unknown field "mod" (did you mean mode?)`).
 */
export function uniqueValidator(): OptionValidator {
  let problem: string | undefined;
  return {
    get expected() {
      return `${SHAPE}${problem ? ` (${problem})` : ""}`;
    },
    check(value: unknown) {
      problem = uniqueProblem(value);
      return problem === undefined;
    },
  };
}

/** The validator of `uniqueLock`, the lock a Unique middleware gave a message when it was sent. */
export const uniqueLockValidator: OptionValidator = {
  expected: "a unique-lock key (a non-empty string)",
  check: (value) => typeof value === "string" && value.length > 0,
};

/**
 * The default lock name of a message: SHA-256 (hex) of the canonical JSON (object keys sorted) of
 * `[actor, queue, args, kwargs]`, the queue without its `.DQ` suffix.
 */
export function defaultUniqueKey(
  actorName: string,
  queueName: string,
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
): string {
  const canonical = canonicalJson([actorName, canonicalQueueName(queueName), args, kwargs]);
  return createHash("sha256").update(canonical).digest("hex");
}

/** JSON with object keys sorted at every level (so `{a, b}` and `{b, a}` hash alike). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, current: unknown) => {
    if (typeof current === "bigint") return current.toString();
    if (current === null || typeof current !== "object" || Array.isArray(current)) return current;
    const sorted: Record<string, unknown> = {};
    for (const name of Object.keys(current).sort())
      sorted[name] = (current as Record<string, unknown>)[name];
    return sorted;
  });
}
