import type { Redis, RedisOptions } from "ioredis";

/** Default ioredis `commandTimeout` of dq's Redis clients, in ms: a paused or hung server fails the command instead of hanging it. */
export const DEFAULT_COMMAND_TIMEOUT = 5000;

/** Default ioredis `connectTimeout` of dq's Redis clients, in ms. */
export const DEFAULT_CONNECT_TIMEOUT = 5000;

/**
 * ioredis options that fail a command instead of queueing it forever while Redis is away (one
 * retry per request, a command timeout, a connect timeout), with an adapter's own choices on top.
 * The caller gets a ConnectionError and ioredis keeps reconnecting in the background.
 * @param overrides - the adapter's own defaults (offline queue, retry strategy, timeouts...)
 */
export function failFastOptions(overrides: RedisOptions = {}): RedisOptions {
  return {
    maxRetriesPerRequest: 1,
    connectTimeout: DEFAULT_CONNECT_TIMEOUT,
    commandTimeout: DEFAULT_COMMAND_TIMEOUT,
    ...overrides,
  };
}

/**
 * An ioredis `retryStrategy` waiting `step` ms more per attempt, at most `cap` ms; with
 * `maxAttempts`, it gives up (null) after that many attempts or once `stopped()` says so.
 * @example cappedRetry(100, 2000) // 100, 200, ... 2000, 2000, ... ms, forever
 */
export function cappedRetry(
  step: number,
  cap: number,
  maxAttempts = Infinity,
  stopped: () => boolean = () => false,
): (attempt: number) => number | null {
  return (attempt) => (stopped() || attempt > maxAttempts ? null : Math.min(attempt * step, cap));
}

/**
 * Closes a client the adapter created: QUIT lets pending replies arrive; a client that is not
 * connected (or whose QUIT fails) is just disconnected, which stops its reconnecting.
 */
export async function closeClient(client: Redis): Promise<void> {
  if (client.status === "ready") await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}
