import { InvalidOptionError } from "./errors.js";

/**
 * The dq name of a Dramatiq environment variable: `dramatiq_queue_prefetch` → `DQ_QUEUE_PREFETCH`.
 * Names that are not `dramatiq_*` are returned unchanged.
 */
export function dqEnvName(name: string): string {
  return name.startsWith("dramatiq_") ? `DQ_${name.slice("dramatiq_".length).toUpperCase()}` : name;
}

/**
 * Reads a setting from the environment under its dq name (`DQ_QUEUE_PREFETCH`), or else under
 * Dramatiq's name (`dramatiq_queue_prefetch`), kept as an alias. Empty counts as unset.
 * @returns the value and the variable it came from, or undefined when neither is set
 */
export function envSetting(name: string): { name: string; value: string } | undefined {
  for (const candidate of [...new Set([dqEnvName(name), name])]) {
    const value = process.env[candidate];
    if (value !== undefined && value.trim() !== "") return { name: candidate, value };
  }
  return undefined;
}

/**
 * Reads a non-negative integer from the environment: `DQ_QUEUE_PREFETCH` and friends, or their
 * Dramatiq names (`dramatiq_queue_prefetch`) as aliases. Missing, empty or `0` means "use the
 * default", as in Dramatiq.
 * @param name - Dramatiq's name of the variable, e.g. `dramatiq_queue_prefetch`
 * @throws InvalidOptionError when the variable is set to something that is not such an integer
 */
export function envInteger(name: string, fallback: number): number {
  const setting = envSetting(name);
  if (!setting) return fallback;
  const value = Number(setting.value);
  if (!Number.isInteger(value) || value < 0) {
    throw new InvalidOptionError(
      `environment variable ${setting.name}=${JSON.stringify(setting.value)} is not a non-negative integer`,
    );
  }
  return value === 0 ? fallback : value;
}
