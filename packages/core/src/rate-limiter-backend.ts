/**
 * The storage contract shared by rate limiters, barriers and unique messages. Every key is used
 * verbatim (no namespace). Counters are decimal integers, exactly as Python Dramatiq's backends
 * store them, so that Node and Python processes can share one limit or one barrier; the string
 * operations (`getValue` … `compareAndDelete`) hold the locks of `Unique` and the marks of
 * `CompletedGuard`. `@dq/test-suite`'s `defineRateLimiterBackendTests` checks every member.
 * Defined here so that `@dq/rate-limits` (which exports it under the same name) and
 * `@dq/test-suite` (which rate-limits' own tests depend on) share one contract.
 */
export abstract class RateLimiterBackend {
  /**
   * Adds `key` with `value` iff it does not exist.
   * @param key - the key, used verbatim
   * @param value - the initial value
   * @param ttl - how long the key may live, in ms
   * @returns whether the key was added
   * @throws ConnectionError when the server cannot be reached
   */
  abstract add(key: string, value: number, ttl: number): Promise<boolean>;

  /**
   * Atomically increments `key` by `amount` unless that would take it above `maximum` (a missing
   * key counts as 0).
   * @param ttl - the key's new time to live, in ms (where the server allows setting it)
   * @returns whether the key was incremented
   * @throws ConnectionError when the server cannot be reached
   */
  abstract incr(key: string, amount: number, maximum: number, ttl: number): Promise<boolean>;

  /**
   * Atomically decrements `key` by `amount` unless that would take it below `minimum` (a missing
   * key counts as 0).
   * @param ttl - the key's new time to live, in ms (where the server allows setting it)
   * @returns whether the key was decremented
   * @throws ConnectionError when the server cannot be reached
   */
  abstract decr(key: string, amount: number, minimum: number, ttl: number): Promise<boolean>;

  /**
   * Atomically increments `key` by `amount` unless `amount` plus the sum of the values of `keys()`
   * would exceed `maximum`.
   * @param keys - computes the keys to sum over (called again on retries, as time moves)
   * @returns whether the key was incremented
   * @throws ConnectionError when the server cannot be reached
   */
  abstract incrAndSum(
    key: string,
    keys: () => string[],
    amount: number,
    maximum: number,
    ttl: number,
  ): Promise<boolean>;

  /**
   * Waits until an event is published on `key` (by `waitNotify`) or `timeout` ms pass.
   * An event stays published until its TTL, so a late waiter still sees it.
   * @param timeout - ms to wait; undefined waits forever
   * @returns whether an event was published
   * @throws Error on backends that cannot block (Memcached)
   */
  abstract wait(key: string, timeout: number | undefined): Promise<boolean>;

  /**
   * Publishes an event on `key`, waking every `wait`er.
   * @param ttl - how long the event stays visible, in ms
   */
  abstract waitNotify(key: string, ttl: number): Promise<void>;

  // String values (unique-message locks, completed-message marks): stored verbatim, never counted.

  /**
   * Reads a string value.
   * @returns the value, or undefined when `key` is missing or expired
   * @throws ConnectionError when the server cannot be reached
   */
  abstract getValue(key: string): Promise<string | undefined>;

  /**
   * Stores `value` under `key`, replacing any value, for `ttl` ms.
   * @throws ConnectionError when the server cannot be reached
   */
  abstract setValue(key: string, value: string, ttl: number): Promise<void>;

  /**
   * Stores `value` under `key` for `ttl` ms iff `key` does not exist (atomically).
   * @returns whether it was stored
   * @throws ConnectionError when the server cannot be reached
   */
  abstract addValue(key: string, value: string, ttl: number): Promise<boolean>;

  /**
   * Atomically replaces the value of `key` by `value` (with a new `ttl`, in ms) iff it is
   * `expected`; a missing key is never replaced. Setting `value === expected` extends the TTL.
   * @returns whether it was replaced
   * @throws ConnectionError when the server cannot be reached
   */
  abstract compareAndSet(
    key: string,
    expected: string,
    value: string,
    ttl: number,
  ): Promise<boolean>;

  /**
   * Atomically deletes `key` iff its value is `expected`.
   * @returns whether it was deleted
   * @throws ConnectionError when the server cannot be reached
   */
  abstract compareAndDelete(key: string, expected: string): Promise<boolean>;

  /** Releases connections this backend opened (a client passed in by the user is left open). */
  async close(): Promise<void> {}
}
