/**
 * Checks of actor and message option values, and of option names. Every option value is checked
 * where it is given: at actor declaration, in `messageWithOptions`/`sendWithOptions`, and when a
 * worker receives a message (a bad value from another producer dead-letters the message with the
 * reason instead of silently disabling a limit).
 */
import type { ZodType } from "zod";
import { InvalidOptionError } from "./errors.js";

/**
 * Checks one option's value. Middleware declare one per option they read
 * (`Middleware.optionValidators`); `optionValidator()` builds one from a zod schema or a predicate.
 */
export interface OptionValidator {
  /** What a valid value is, for error messages: `"an integer >= 0, or null for no limit"`. */
  readonly expected: string;
  /** @returns whether `value` is valid (`undefined` never reaches it: it means "not given") */
  check(value: unknown): boolean;
}

/**
 * Builds an `OptionValidator` from a zod schema (any version with `safeParse`) or a predicate.
 * @param expected - what a valid value is, in words, for the error message
 * @param test - a zod schema or a predicate
 * @example optionValidator("a number of ms > 0", (value) => typeof value === "number" && value > 0)
 */
export function optionValidator(
  expected: string,
  test: ZodType | ((value: unknown) => boolean),
): OptionValidator {
  if (typeof test === "function") return { expected, check: test };
  return { expected, check: (value) => test.safeParse(value).success };
}

const isNumber = (value: unknown): value is number =>
  typeof value === "number" && !Number.isNaN(value);
const finite = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value);
const nullOr = (check: (value: unknown) => boolean) => (value: unknown) =>
  value === null || check(value);
const isClass = (value: unknown) => typeof value === "function";
const actorName = (value: unknown) => typeof value === "string" && value.length > 0;

/** Validators of the options core's own middleware and messages read, by API (camelCase) name. */
export const CORE_OPTION_VALIDATORS: Readonly<Record<string, OptionValidator>> = {
  // AgeLimit, TimeLimit: 0 or null fall through to the actor's value, then the default (Dramatiq's `or`).
  maxAge: optionValidator(
    "a number of ms >= 0 (0 or null: no limit of its own)",
    nullOr((v) => isNumber(v) && v >= 0),
  ),
  timeLimit: optionValidator(
    "a number of ms >= 0, or Infinity for no limit (0 or null: the default)",
    nullOr((v) => isNumber(v) && v >= 0),
  ),
  notifyShutdown: optionValidator(
    "a boolean",
    nullOr((v) => typeof v === "boolean"),
  ),
  // Retries: max_retries null means forever; the backoffs are read with `get`, so null is no value.
  maxRetries: optionValidator(
    "an integer >= 0, or null to retry forever",
    nullOr((v) => Number.isSafeInteger(v) && (v as number) >= 0),
  ),
  minBackoff: optionValidator("a finite number of ms >= 0", (v) => finite(v) && v >= 0),
  maxBackoff: optionValidator("a finite number of ms >= 0", (v) => finite(v) && v >= 0),
  retryWhen: optionValidator(
    "a function (retries, error) => boolean",
    (v) => typeof v === "function",
  ),
  throws: optionValidator(
    "an error class or an array of error classes",
    (v) => isClass(v) || (Array.isArray(v) && v.every(isClass)),
  ),
  onRetryExhausted: optionValidator("an actor or an actor name", nullOr(actorName)),
  onSuccess: optionValidator("an actor or an actor name", nullOr(actorName)),
  onFailure: optionValidator("an actor or an actor name", nullOr(actorName)),
  pipeIgnore: optionValidator(
    "a boolean",
    nullOr((v) => typeof v === "boolean"),
  ),
  pipeTarget: optionValidator(
    "a message in wire shape (an object)",
    nullOr((v) => typeof v === "object" && !Array.isArray(v)),
  ),
  storeResults: optionValidator(
    "a boolean",
    nullOr((v) => typeof v === "boolean"),
  ),
  resultTtl: optionValidator("a finite number of ms > 0", (v) => finite(v) && v > 0),
  delay: optionValidator(
    "a finite number of ms >= 0",
    nullOr((v) => finite(v) && v >= 0),
  ),
  eta: optionValidator("a UNIX time in ms (a finite number)", nullOr(finite)),
  retries: optionValidator("an integer >= 0", (v) => Number.isSafeInteger(v) && (v as number) >= 0),
  brokerPriority: optionValidator(
    "an integer from 0 to 255",
    nullOr((v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 255),
  ),
};

/**
 * Options a message carries that no middleware declares as an actor option: set by the broker,
 * by Retries and by composition. They are accepted in `messageWithOptions` without a middleware.
 */
export const MESSAGE_ONLY_OPTIONS: ReadonlySet<string> = new Set([
  "eta",
  "delay",
  "redisMessageId",
  "retries",
  "traceback",
  "requeueTimestamp",
  "pipeTarget",
  "groupCompletionUuid",
  "groupCompletionCallbacks",
  "brokerPriority",
]);

/** Options only an actor can have: a message cannot carry a function or a class. */
export const ACTOR_ONLY_OPTIONS: ReadonlySet<string> = new Set(["retryWhen", "throws"]);

/** A short, printable form of a bad value for an error message. */
export function showValue(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (
    typeof value === "number" ||
    typeof value === "boolean" ||
    value === null ||
    value === undefined
  )
    return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "symbol") return value.toString();
  if (typeof value === "function") return `a function${value.name ? ` (${value.name})` : ""}`;
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 80)}…` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * Checks each option value that has a validator.
 * @param where - who gives the options, for the message (`"actor send_email"`, `"message 1b2c…"`)
 * @throws InvalidOptionError naming the first invalid option, its value and what is expected
 */
export function checkOptionValues(
  options: Readonly<Record<string, unknown>>,
  validators: ReadonlyMap<string, OptionValidator>,
  where: string,
): void {
  for (const key in options) {
    const value = options[key];
    if (value === undefined) continue;
    const validator = validators.get(key);
    if (validator && !validator.check(value)) {
      throw new InvalidOptionError(
        `${where}: invalid option ${key} = ${showValue(value)}: expected ${validator.expected}`,
        {
          option: key,
          value,
          expected: validator.expected,
        },
      );
    }
  }
}

/** Levenshtein distance, case-insensitive (short names: options, flags). */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * @returns the known name closest to `name` (a snake_case wire name maps to its camelCase
 * name first), or undefined when none is close enough to be a likely typo
 */
export function closestName(
  name: string,
  known: Iterable<string>,
  wireToApi: (key: string) => string = (key) => key,
): string | undefined {
  const candidates = [...known];
  const mapped = wireToApi(name);
  if (mapped !== name && candidates.includes(mapped)) return mapped;
  // A truncated name (`queue` for `queueName`) is a likely slip too.
  if (name.length >= 4) {
    const extended = candidates.find((candidate) =>
      candidate.toLowerCase().startsWith(name.toLowerCase()),
    );
    if (extended) return extended;
  }
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/**
 * The error for option names nobody declares, each with the closest known name when one is close.
 * @param wireToApi - maps a snake_case wire name to its camelCase name (`max_retries` → `maxRetries`)
 */
export function unknownOptionsError(
  names: readonly string[],
  known: Iterable<string>,
  where: string,
  wireToApi?: (key: string) => string,
): InvalidOptionError {
  const knownList = [...known].sort();
  const described = names.map((name) => {
    const suggestion = closestName(name, knownList, wireToApi);
    return `${JSON.stringify(name)}${suggestion ? ` (did you mean ${suggestion}?)` : ""}`;
  });
  return new InvalidOptionError(
    `${where}: unknown option${names.length > 1 ? "s" : ""} ${described.join(", ")}. ` +
      `Did you forget to add a middleware to the broker? Known options: ${knownList.join(", ")}`,
    { option: names[0] },
  );
}

/**
 * Checks one of core's options given to a middleware constructor (`new AgeLimit({ maxAge })`).
 * @throws InvalidOptionError naming the middleware, the option, its value and what is expected
 */
export function checkCoreOption(where: string, option: string, value: unknown): void {
  const validator = CORE_OPTION_VALIDATORS[option];
  if (validator && value !== undefined)
    checkOptionValues({ [option]: value }, new Map([[option, validator]]), where);
}
