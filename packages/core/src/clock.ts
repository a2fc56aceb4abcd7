/**
 * Time and randomness are injected so that backoff, delays and limits can be tested without
 * sleeping. `now()` is UNIX milliseconds.
 */
export interface Clock {
  /** The current time in UNIX milliseconds. */
  now(): number;
}

/** The system clock. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * Dramatiq's `compute_backoff`: exponential backoff with jitter, capped at `maxBackoff`.
 * With jitter, `b = floor(factor * 2^min(attempts, maxExponent) * U(1,2))`, and when that exceeds
 * `maxBackoff`, `b = floor(maxBackoff * U(0.5,1))`.
 * @returns `[attempts + 1, backoffMs]`
 */
export function computeBackoff(
  attempts: number,
  {
    factor = 5,
    jitter = true,
    maxBackoff = 2000,
    maxExponent = 32,
    random = Math.random,
  }: { factor?: number; jitter?: boolean; maxBackoff?: number; maxExponent?: number; random?: () => number } = {},
): [number, number] {
  let backoff = factor * 2 ** Math.min(attempts, maxExponent);
  if (jitter) {
    backoff = Math.floor(backoff * (1 + random()));
    if (backoff > maxBackoff) backoff = Math.floor(maxBackoff * (0.5 + random() / 2));
  } else {
    backoff = Math.min(backoff, maxBackoff);
  }
  return [attempts + 1, backoff];
}

/** Resolves after `ms` milliseconds, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
