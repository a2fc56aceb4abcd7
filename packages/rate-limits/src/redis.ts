/**
 * `@dq/rate-limits/redis` — the Redis rate-limiter backend (needs the optional peer `ioredis`).
 */
import { ConnectionError, ConnectionFailed } from "@dq/core";
import {
  cappedRetry,
  checkOptions,
  classifyConnectionError,
  closeClient,
  describeConnectionProblem,
  endpointOf,
  failFastOptions,
} from "@dq/redis-connection";
import { Redis, ReplyError, type RedisOptions } from "ioredis";
import { z } from "zod";
import { RateLimiterBackend } from "@dq/core/adapter";

/** Options of `RedisRateLimiterBackend`: a client, or a URL and/or ioredis options to build one. */
export interface RedisRateLimiterBackendOptions extends RedisOptions {
  /** A client to use (not closed by `close()`); other options are then ignored. */
  client?: Redis;
  /** `redis://` URL (default env `REDIS_URL`, else redis://127.0.0.1:6379). */
  url?: string;
}

// Each script is one atomic step of Dramatiq's WATCH/GET/MULTI/SET/EXEC loop: the bound is checked
// and nothing is written when it would be crossed; a missing key counts as 0; values are decimal.
const INCR = `
local value = tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(ARGV[1])
if value > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], string.format('%d', value), 'PX', ARGV[3])
return 1`;

const DECR = `
local value = tonumber(redis.call('GET', KEYS[1]) or '0') - tonumber(ARGV[1])
if value < tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], string.format('%d', value), 'PX', ARGV[3])
return 1`;

// KEYS[1] is the key to increment, KEYS[2..] the window keys to sum over.
const INCR_AND_SUM = `
local amount = tonumber(ARGV[1])
local maximum = tonumber(ARGV[2])
local value = tonumber(redis.call('GET', KEYS[1]) or '0') + amount
if value > maximum then return 0 end
local total = amount
if #KEYS > 1 then
  for _, n in ipairs(redis.call('MGET', unpack(KEYS, 2))) do
    if n then total = total + tonumber(n) end
  end
end
if total > maximum then return 0 end
redis.call('SET', KEYS[1], string.format('%d', value), 'PX', ARGV[3])
return 1`;

// Compare-and-set / compare-and-delete of a string value (unique-message locks).
const COMPARE_AND_SET = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;

const COMPARE_AND_DELETE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`;

const NOTIFY_MARKER = "x";

/** The options the backend reads itself (the rest goes to ioredis). */
const optionsSchema = z.object({ url: z.string().optional() });

/**
 * Rate limits and barriers in Redis, with Dramatiq's key layout so Python processes share them:
 * `add` is `SET key value PX ttl NX`; `incr`/`decr`/`incrAndSum` are Lua scripts doing atomically
 * what Dramatiq does with WATCH/MULTI; `waitNotify` pushes `"x"` on the events list and `wait` is
 * `BRPOPLPUSH` on a dedicated connection (so several waits do not queue behind each other).
 *
 * A server that cannot be reached makes each call fail with `ConnectionFailed` after the connect
 * attempts (default 3) instead of hanging.
 */
export class RedisRateLimiterBackend extends RateLimiterBackend {
  readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly where: string;
  private readonly blocking = new Set<Redis>();
  private closed = false;
  private lastConnectionError: unknown;

  constructor(options: RedisRateLimiterBackendOptions = {}) {
    super();
    checkOptions(optionsSchema, options as Record<string, unknown>, {
      url: "a redis:// URL string",
    });
    const { client, url, ...redisOptions } = options;
    if (client) {
      this.client = client;
      this.ownsClient = false;
      this.where = `${client.options.host ?? "?"}:${client.options.port ?? "?"}`;
      return;
    }
    const target = url ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
    // With `sentinels`, ioredis asks them for the master: the URL (if any) is not where it connects.
    const sentinels = redisOptions.sentinels?.length;
    this.where = sentinels ? endpointOf(undefined, redisOptions).address : target;
    // The shared policy (one retry, 5 s connect and command timeouts: a paused or hung server fails
    // the command instead of hanging it; `wait` opts out), giving up after three reconnects.
    const clientOptions = {
      ...failFastOptions({
        lazyConnect: true,
        disconnectTimeout: 200,
        retryStrategy: cappedRetry(200, 1000, 3, () => this.closed),
      }),
      ...redisOptions,
    };
    this.client = sentinels && !url ? new Redis(clientOptions) : new Redis(target, clientOptions);
    // Errors reach the caller through the rejected command; the event must not crash the process.
    // The last one says why a connection failed (ioredis's own rejection only says it is closed).
    this.client.on("error", (error: unknown) => (this.lastConnectionError = error));
    this.client.on("ready", () => (this.lastConnectionError = undefined));
    this.ownsClient = true;
  }

  private async run<T>(
    operation: (client: Redis) => Promise<T>,
    client: Redis = this.client,
  ): Promise<T> {
    try {
      if (client.status === "wait" || client.status === "end") await client.connect();
      return await operation(client);
    } catch (error) {
      if (error instanceof ReplyError || ConnectionError.isInstance(error)) throw error;
      // One of the named problems of the shared policy when it is one.
      const cause = classifyConnectionError(error) ? error : this.lastConnectionError;
      const problem = classifyConnectionError(cause);
      const detail = problem
        ? describeConnectionProblem(
            problem,
            endpointOf(this.where, {}),
            (cause as Error).message,
            client.options.connectTimeout ?? 5000,
          )
        : (error as Error).message;
      throw new ConnectionFailed(
        `rate-limiter backend could not reach Redis at ${this.where}: ${detail}`,
        { cause: error },
      );
    }
  }

  override async add(key: string, value: number, ttl: number): Promise<boolean> {
    return this.run(
      async (client) => (await client.set(key, String(value), "PX", ttl, "NX")) === "OK",
    );
  }

  override async incr(key: string, amount: number, maximum: number, ttl: number): Promise<boolean> {
    return this.run(
      async (client) => (await client.eval(INCR, 1, key, amount, maximum, ttl)) === 1,
    );
  }

  override async decr(key: string, amount: number, minimum: number, ttl: number): Promise<boolean> {
    return this.run(
      async (client) => (await client.eval(DECR, 1, key, amount, minimum, ttl)) === 1,
    );
  }

  override async incrAndSum(
    key: string,
    keys: () => string[],
    amount: number,
    maximum: number,
    ttl: number,
  ): Promise<boolean> {
    const all = [key, ...keys()];
    return this.run(
      async (client) =>
        (await client.eval(INCR_AND_SUM, all.length, ...all, amount, maximum, ttl)) === 1,
    );
  }

  override async getValue(key: string): Promise<string | undefined> {
    return this.run(async (client) => (await client.get(key)) ?? undefined);
  }

  override async setValue(key: string, value: string, ttl: number): Promise<void> {
    await this.run((client) => client.set(key, value, "PX", ttl));
  }

  override async addValue(key: string, value: string, ttl: number): Promise<boolean> {
    return this.run(async (client) => (await client.set(key, value, "PX", ttl, "NX")) === "OK");
  }

  override async compareAndSet(
    key: string,
    expected: string,
    value: string,
    ttl: number,
  ): Promise<boolean> {
    return this.run(
      async (client) => (await client.eval(COMPARE_AND_SET, 1, key, expected, value, ttl)) === 1,
    );
  }

  override async compareAndDelete(key: string, expected: string): Promise<boolean> {
    return this.run(
      async (client) => (await client.eval(COMPARE_AND_DELETE, 1, key, expected)) === 1,
    );
  }

  /**
   * `BRPOPLPUSH key key timeout` on a connection of its own (the marker is pushed back, so every
   * waiter sees it until it expires). Sub-second timeouts are allowed (Redis ≥ 6); 0 checks
   * without blocking.
   */
  override async wait(key: string, timeout: number | undefined): Promise<boolean> {
    if (timeout !== undefined && timeout <= 0) {
      return this.run(async (client) => (await client.lindex(key, -1)) === NOTIFY_MARKER);
    }
    const connection = this.client.duplicate({
      lazyConnect: true,
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
    });
    connection.on("error", () => undefined);
    this.blocking.add(connection);
    try {
      const seconds = timeout === undefined ? 0 : timeout / 1000;
      return await this.run(
        async (client) => (await client.brpoplpush(key, key, seconds)) === NOTIFY_MARKER,
        connection,
      );
    } finally {
      this.blocking.delete(connection);
      connection.disconnect();
    }
  }

  override async waitNotify(key: string, ttl: number): Promise<void> {
    await this.run(async (client) => {
      await client.multi().rpush(key, NOTIFY_MARKER).pexpire(key, ttl).exec();
    });
  }

  /** Disconnects blocked waits and, when this backend built it, the client. */
  override async close(): Promise<void> {
    for (const connection of this.blocking) connection.disconnect();
    this.blocking.clear();
    if (!this.ownsClient) return;
    this.closed = true;
    await closeClient(this.client);
  }
}
