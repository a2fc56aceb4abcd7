import { InvalidOptionError } from "@dq/core";

/**
 * @returns `value` when it is a whole number ≥ `min`
 * @throws InvalidOptionError naming the option and showing the value otherwise
 */
export function wholeNumber(owner: string, name: string, value: unknown, min = 1): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidOptionError(
      `${owner}: ${name} must be an integer >= ${min}, got ${describe(value)}`,
    );
  }
  return value;
}

/**
 * @returns `key` when it is a non-empty string
 * @throws InvalidOptionError otherwise
 */
export function validKey(owner: string, key: unknown): string {
  if (typeof key !== "string" || key.length === 0)
    throw new InvalidOptionError(`${owner}: key must be a non-empty string, got ${describe(key)}`);
  return key;
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (
    typeof value === "number" ||
    typeof value === "boolean" ||
    typeof value === "bigint" ||
    value === null ||
    value === undefined
  )
    return String(value);
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}
