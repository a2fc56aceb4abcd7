/**
 * Time and randomness are injected so that backoff, delays and limits can be tested without
 * sleeping. `now()` is UNIX milliseconds. A clock without timers uses the system's.
 */
export interface Clock {
  /** The current time in UNIX milliseconds. */
  now(): number;
  /** Calls `callback` once after `ms` milliseconds of this clock; returns a handle for `clearTimeout`. */
  setTimeout?(callback: () => void, ms: number): unknown;
  /** Cancels a timer of this clock's `setTimeout` (no effect on `undefined` or a fired timer). */
  clearTimeout?(timer: unknown): void;
}

/** A clock with its timers: what the broker, the worker and their waits read. */
export interface TimerClock extends Clock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

const systemSetTimeout = (callback: () => void, ms: number): unknown => setTimeout(callback, ms);
const systemClearTimeout = (timer: unknown): void =>
  clearTimeout(timer as NodeJS.Timeout | undefined);

/** The system clock. */
export const systemClock: TimerClock = {
  now: () => Date.now(),
  setTimeout: systemSetTimeout,
  clearTimeout: systemClearTimeout,
};

/** `clock` with the system's timers where it has none of its own. */
export function withTimers(clock: Clock): TimerClock {
  if (clock.setTimeout && clock.clearTimeout) return clock as TimerClock;
  return { now: () => clock.now(), setTimeout: systemSetTimeout, clearTimeout: systemClearTimeout };
}

let ambient: TimerClock = systemClock;

/**
 * The clock that core reads where no broker's clock applies (message timestamps, result waits,
 * the default of `sleep` and of a broker's `clock` option): the system clock unless a test set one.
 */
export function currentClock(): TimerClock {
  return ambient;
}

/**
 * Makes `clock` the clock core reads by default (see `currentClock`), or the system clock again
 * with no argument. For tests: a fake clock installs itself with this.
 */
export function setCurrentClock(clock?: Clock): void {
  ambient = clock ? withTimers(clock) : systemClock;
}

/** `currentClock().now()`: what core reads instead of `Date.now()`. */
export function clockNow(): number {
  return ambient.now();
}

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
  }: {
    factor?: number;
    jitter?: boolean;
    maxBackoff?: number;
    maxExponent?: number;
    random?: () => number;
  } = {},
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

/** Resolves after `ms` milliseconds of `clock` (default `currentClock()`), or at once when `signal` aborts. */
export function sleep(
  ms: number,
  signal?: AbortSignal,
  clock: TimerClock = ambient,
): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = clock.setTimeout(done, ms);
    function done() {
      clock.clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
