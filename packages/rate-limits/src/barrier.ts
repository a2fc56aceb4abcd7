import type { RateLimiterBackend } from "@dq/core/adapter";
import { validKey, wholeNumber } from "./validation.js";

/** What `Barrier.wait` takes. */
export interface BarrierWaitOptions {
  /** Wait for the last party (default true); otherwise return at once. */
  block?: boolean;
  /** With `block`, ms to wait at most (default forever). */
  timeout?: number;
}

/**
 * A distributed barrier: `create(parties)`, then each party calls `wait`; the party that arrives
 * last clears it. Storage: the counter `<key>` and the event list `<key>@events`.
 *
 * As in Dramatiq, a missing or expired counter counts as cleared, and every wait after the barrier
 * cleared also returns true.
 */
export class Barrier {
  readonly backend: RateLimiterBackend;
  readonly key: string;
  readonly ttl: number;
  readonly eventsKey: string;

  /** @throws InvalidOptionError for a `ttl` that is not a positive integer */
  constructor(backend: RateLimiterBackend, key: string, options: { ttl?: number } = {}) {
    this.backend = backend;
    this.key = validKey("Barrier", key);
    this.ttl = wholeNumber("Barrier", "ttl", options.ttl ?? 900_000);
    this.eventsKey = `${this.key}@events`;
  }

  /**
   * Creates the barrier for `parties` parties.
   * @returns false when it already existed
   * @throws InvalidOptionError for `parties` that is not a positive integer
   */
  async create(parties: number): Promise<boolean> {
    return this.backend.add(this.key, wholeNumber("Barrier", "parties", parties), this.ttl);
  }

  /**
   * Arrives at the barrier.
   * @returns true for the party that cleared it (and when it was already cleared); with `block`,
   *   true once the last party arrived and false when `timeout` ran out; without, false at once for
   *   a party that is not the last
   */
  async wait(options: BarrierWaitOptions = {}): Promise<boolean> {
    const { block = true, timeout } = options;
    if (timeout !== undefined) wholeNumber("Barrier.wait", "timeout", timeout, 0);
    const released = !(await this.backend.decr(this.key, 1, 1, this.ttl));
    if (released) {
      await this.backend.waitNotify(this.eventsKey, this.ttl);
      return true;
    }
    if (!block) return false;
    return this.backend.wait(this.eventsKey, timeout);
  }
}
