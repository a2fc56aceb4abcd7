/**
 * JSON values as Python's `json` module writes and reads them, for the values where JavaScript's
 * JSON differs: `NaN`, `Infinity`, `-Infinity` (bare tokens), `-0` (`-0.0`), numbers below 1e-4
 * (`1e-07`, Python's float repr), `BigInt` (a JSON integer) and, on reading, integers outside
 * the safe range (a `BigInt`). Values JSON cannot carry at all (`undefined`, functions, symbols)
 * throw `EncodeError` with their path instead of becoming `null` or vanishing.
 *
 * Both directions have a fast path: a walk that finds no such value lets `JSON.stringify` write
 * the text, and `JSON.parse` reads text without long digit runs or Python's tokens.
 */
import { EncodeError } from "./errors.js";

/** What `scan` found: nothing special, a value to write the Python way, a value JSON cannot carry. */
const PLAIN = 0;
const SPECIAL = 1;
const UNSENDABLE = 2;

/** Deeper than this, the scan stops and the careful writer (which detects cycles) takes over. */
const MAX_SCAN_DEPTH = 64;

/** Whether JSON.stringify writes this number differently from Python's json.dumps. */
function isSpecialNumber(value: number): boolean {
  if (value === 0) return 1 / value < 0; // -0
  // NaN fails both comparisons; ±Infinity and tiny non-zero magnitudes pass one of them.
  return !(value > -Infinity && value < Infinity) || (value < 1e-4 && value > -1e-4);
}

/**
 * Walks a value as JSON.stringify would. @returns PLAIN when JSON.stringify writes exactly what
 * Python's json.dumps writes, SPECIAL when a number or BigInt needs Python's form (or the value is
 * too deep or has a `toJSON` to tell), UNSENDABLE when JSON cannot carry a value in it
 */
export function scan(value: unknown, depth = 0): number {
  switch (typeof value) {
    case "string":
    case "boolean":
      return PLAIN;
    case "number":
      return isSpecialNumber(value) ? SPECIAL : PLAIN;
    case "bigint":
      return SPECIAL;
    case "object": {
      if (value === null) return PLAIN;
      if (depth > MAX_SCAN_DEPTH || typeof (value as { toJSON?: unknown }).toJSON === "function")
        return SPECIAL;
      let found = PLAIN;
      if (Array.isArray(value)) {
        for (let index = 0; index < value.length; index++) {
          const result = scan(value[index], depth + 1);
          if (result === UNSENDABLE) return UNSENDABLE;
          found |= result;
        }
      } else {
        // for-in (2.5× faster than Object.keys here) also sees inherited enumerable keys, which
        // JSON.stringify skips: an UNSENDABLE found there is re-checked by findUnsendable.
        for (const key in value) {
          const result = scan((value as Record<string, unknown>)[key], depth + 1);
          if (result === UNSENDABLE) return UNSENDABLE;
          found |= result;
        }
      }
      return found;
    }
    default:
      return UNSENDABLE; // undefined, function, symbol
  }
}

/** Python's float repr for the numbers `isSpecialNumber` picks out. */
export function pythonNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "Infinity";
  if (value === -Infinity) return "-Infinity";
  if (value === 0) return "-0.0";
  // Below 1e-4 Python's repr uses an exponent of at least two digits: 1e-07, 1.5e-05.
  const [mantissa, exponent] = value.toExponential().split("e") as [string, string];
  return `${mantissa}e${exponent[0]}${exponent.slice(1).padStart(2, "0")}`;
}

/** A marker no caller's string will hold: its text in JSON is replaced by the bare token. */
const NONCE = Math.random().toString(36).slice(2, 10);
const MARK = `\u0000dq${NONCE}:`;
const MARKED = new RegExp(`"\\\\u0000dq${NONCE}:([^"]*)"`, "g");

const describePath = (path: readonly (string | number)[]): string =>
  path
    .map((part, index) =>
      typeof part === "number"
        ? `[${part}]`
        : index === 0
          ? part
          : /^[A-Za-z_$][\w$]*$/.test(part)
            ? `.${part}`
            : `[${JSON.stringify(part)}]`,
    )
    .join("");

/** Where the first value JSON cannot carry is, for the error message. */
function findUnsendable(
  value: unknown,
  path: (string | number)[],
  seen: Set<object>,
): { path: string; value: unknown; cycle?: boolean } | undefined {
  if (value !== null && typeof value === "object") {
    const json = (value as { toJSON?: unknown }).toJSON;
    if (typeof json === "function")
      return findUnsendable(
        (json as (key: string) => unknown).call(value, String(path[path.length - 1] ?? "")),
        path,
        seen,
      );
    if (seen.has(value)) return { path: describePath(path), value, cycle: true };
    seen.add(value);
    const entries: [string | number, unknown][] = Array.isArray(value)
      ? Array.from(value, (item, index) => [index, item])
      : Object.entries(value);
    for (const [key, item] of entries) {
      const found = findUnsendable(item, [...path, key], seen);
      if (found) return found;
    }
    seen.delete(value);
    return undefined;
  }
  if (value === undefined || typeof value === "function" || typeof value === "symbol")
    return { path: describePath(path), value };
  return undefined;
}

function unsendable(data: unknown, root: string, cause?: unknown): EncodeError {
  const found = findUnsendable(data, root ? [root] : [], new Set());
  const path = found?.path || root || "the value";
  if (found?.cycle)
    return new EncodeError(
      `cannot encode ${path} as JSON: it refers back to itself (a cycle)`,
      path,
      found.value,
      { cause },
    );
  const what =
    found === undefined
      ? String(cause)
      : typeof found.value === "function"
        ? "a function"
        : typeof found.value === "symbol"
          ? "a symbol"
          : "undefined";
  return new EncodeError(
    `cannot encode ${path} as JSON: ${what} has no JSON form (Python's json module has none either; send null or leave the key out)`,
    path,
    found?.value,
    { cause },
  );
}

function replacer(this: unknown, _key: string, value: unknown): unknown {
  switch (typeof value) {
    case "number":
      return isSpecialNumber(value) ? MARK + pythonNumber(value) : value;
    case "bigint":
      return MARK + value.toString();
    case "undefined":
    case "function":
    case "symbol":
      throw new TypeError("unsendable");
    default:
      return value;
  }
}

/**
 * `JSON.stringify(value)` as Python's json.dumps writes it (compact; not yet ASCII-escaped).
 * @param root - the name of `value` in error paths (`args`, `kwargs`), or "" at the top
 * @throws EncodeError naming the path of a value JSON cannot carry
 */
export function stringifyPython(value: unknown, root = ""): string {
  const found = scan(value);
  if (found === PLAIN) return JSON.stringify(value);
  if (found === UNSENDABLE && findUnsendable(value, root ? [root] : [], new Set()))
    throw unsendable(value, root);
  let text: string;
  try {
    text = JSON.stringify(value, replacer);
  } catch (error) {
    throw unsendable(value, root, error);
  }
  return text.replace(MARKED, "$1");
}

/**
 * The fast check after reading: an integer-valued number beyond ±(2^53 - 1) may have been an
 * integer literal that JSON.parse rounded (a walk of the parsed value costs less than a regex over
 * the text). Too deep to walk: assume so.
 */
function hasUnsafeInteger(value: unknown, depth = 0): boolean {
  if (typeof value === "number") return Number.isInteger(value) && !Number.isSafeInteger(value);
  if (typeof value !== "object" || value === null) return false;
  if (depth > MAX_SCAN_DEPTH) return true;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++)
      if (hasUnsafeInteger(value[index], depth + 1)) return true;
    return false;
  }
  for (const key in value)
    if (hasUnsafeInteger((value as Record<string, unknown>)[key], depth + 1)) return true;
  return false;
}

/** Strings (kept as they are) and the tokens outside them that JSON.parse would misread. */
const TOKENS = /"(?:[^"\\]|\\.)*"|(-?Infinity|NaN|(?<![\d.eE+-])-?\d{16,}(?![.eE\d]))/g;

function markToken(match: string, token: string | undefined): string {
  if (token === undefined) return match;
  if (token === "NaN" || token.endsWith("Infinity")) return JSON.stringify(MARK + token);
  return Number.isSafeInteger(Number(token)) ? token : JSON.stringify(MARK + token);
}

function reviveToken(_key: string, value: unknown): unknown {
  if (typeof value !== "string" || !value.startsWith(MARK)) return value;
  const token = value.slice(MARK.length);
  if (token === "NaN") return NaN;
  if (token === "Infinity") return Infinity;
  if (token === "-Infinity") return -Infinity;
  return BigInt(token);
}

/**
 * `JSON.parse` that reads what Python's json.loads reads: the bare `NaN`/`Infinity`/`-Infinity`
 * tokens, and integers outside ±(2^53 - 1) as exact `BigInt`s.
 * @throws SyntaxError as JSON.parse does
 */
export function parsePython(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (!/NaN|Infinity/.test(text)) throw error;
    return JSON.parse(text.replace(TOKENS, markToken), reviveToken);
  }
  return hasUnsafeInteger(value) ? JSON.parse(text.replace(TOKENS, markToken), reviveToken) : value;
}
