/**
 * The storage contract shared by rate limiters and barriers. Every value is a decimal integer and
 * every key is used verbatim (no namespace), exactly as Python Dramatiq's backends store them, so
 * that Node and Python processes can share one limit or one barrier.
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

  /** Releases connections this backend opened (a client passed in by the user is left open). */
  async close(): Promise<void> {}
}
