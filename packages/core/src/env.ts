import { InvalidOptionError } from "./errors.js";

/**
 * Reads a non-negative integer from Dramatiq's environment variables (`dramatiq_queue_prefetch`
 * and friends). Missing, empty or `0` means "use the default", as in Dramatiq.
 * @throws InvalidOptionError when the variable is set to something that is not such an integer
 */
export function envInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new InvalidOptionError(`environment variable ${name}=${JSON.stringify(raw)} is not a non-negative integer`);
  }
  return value === 0 ? fallback : value;
}
