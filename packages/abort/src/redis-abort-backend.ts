import {
  checkOptions,
  classifyConnectionError,
  closeClient,
  describeConnectionProblem,
  failFastOptions,
} from "@dq/redis-connection";
import { ConnectionError, getLogger, type Logger } from "@dq/core";
import { Redis, type RedisOptions } from "ioredis";
import { z } from "zod";
import { AbortBackend, decodeEventValue, type AbortEvent } from "./abort-backend.js";

/** What `RedisAbortBackend` takes: a connection and ioredis options. */
export interface RedisAbortBackendOptions extends Omit<RedisOptions, "lazyConnect"> {
  /** `redis://[user:password@]host:port/db` (default `redis://127.0.0.1:6379`). Ignored with `client`. */
  url?: string;
  /** An ioredis client to use instead of connecting; the backend never closes it (its blocking connection is its own). */
  client?: Redis;
  /** The key prefix (default dramatiq-abort's `dramatiq:aborts:`). */
  prefix?: string;
  /** Where connection problems are logged (default `dq.RedisAbortBackend`). */
  logger?: Logger;
}

const DEFAULT_URL = "redis://127.0.0.1:6379";
/** dramatiq-abort's default namespace. */
export const DEFAULT_ABORT_PREFIX = "dramatiq:aborts:";

const optionsSchema = z.object({
  url: z.string().optional(),
  prefix: z.string().min(1).optional(),
});

/**
 * Python `json.dumps` of a flat object with default separators (`{"abort_timeout": 0}`), so the
 * values dq writes are byte for byte those dramatiq-abort writes.
 */
export function pythonDumps(params: Readonly<Record<string, unknown>>): string {
  const entries = Object.entries(params).map(
    ([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`,
  );
  return `{${entries.join(", ")}}`;
}

/**
 * Abort events on Redis with the key layout of Python's dramatiq-abort: per message the LISTs
 * `<prefix>cancel:<id>` and `<prefix>abort:<id>`, each event RPUSHed as `json.dumps` output then
 * PEXPIREd, in one MULTI; workers take them with LPOP and BLPOP. A Python service using
 * dramatiq-abort and a dq service can cancel each other's messages. Blocking waits use a
 * connection of their own.
 */
export class RedisAbortBackend extends AbortBackend {
  /** The connection for writes and non-blocking reads. */
  readonly client: Redis;
  /** The key prefix. */
  readonly prefix: string;
  private readonly ownsClient: boolean;
  private readonly logger: Logger;
  private blocking: Redis | undefined;
  private closed = false;

  /** @throws InvalidOptionError for a `url` or `prefix` that is not a non-empty string */
  constructor(options: RedisAbortBackendOptions = {}) {
    const { url, client, prefix, logger, ...redisOptions } = options;
    super();
    checkOptions(optionsSchema, options as Record<string, unknown>, {
      url: "a redis:// URL string",
      prefix: "a non-empty string",
    });
    this.prefix = prefix ?? DEFAULT_ABORT_PREFIX;
    this.logger = logger ?? getLogger("dq.RedisAbortBackend");
    if (client) {
      this.client = client;
      this.ownsClient = false;
    } else {
      this.client = new Redis(url ?? DEFAULT_URL, {
        ...failFastOptions({ connectTimeout: 2000 }),
        ...redisOptions,
      });
      this.ownsClient = true;
      this.client.on("error", (error: Error) =>
        this.logger.debug(`Redis abort backend connection error: ${error.message}`),
      );
    }
  }

  private get address(): string {
    const { host, port, path } = this.client.options;
    return path ?? `${host ?? "?"}:${port ?? "?"}`;
  }

  /** Runs a command, turning I/O failures into ConnectionError with the server's address. */
  private async run<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      if (error instanceof Error && error.name === "ReplyError") throw error;
      const problem = error instanceof Error ? classifyConnectionError(error) : undefined;
      const text = error instanceof Error ? error.message : String(error);
      throw new ConnectionError(
        `Redis abort backend (${this.address}) failed to ${what}: ${
          problem
            ? describeConnectionProblem(
                problem,
                { address: this.address, url: undefined },
                text,
                2000,
              )
            : text
        }`,
        { cause: error },
      );
    }
  }

  override async notify(events: readonly AbortEvent[], ttl: number): Promise<void> {
    const ms = Math.max(1, Math.ceil(ttl));
    const replies = await this.run("write abort events", () => {
      const multi = this.client.multi();
      for (const { key, params } of events)
        multi.rpush(this.prefix + key, pythonDumps(params)).pexpire(this.prefix + key, ms);
      return multi.exec();
    });
    const failed = replies?.find(([error]) => error);
    if (!replies || failed)
      throw new ConnectionError(
        `Redis abort backend (${this.address}) failed to write abort events: ${failed?.[0]?.message ?? "transaction aborted"}`,
      );
  }

  override async poll(key: string): Promise<AbortEvent | null> {
    const value = await this.run("read an abort event", () => this.client.lpop(this.prefix + key));
    const params = decodeEventValue(value);
    return params ? { key, params } : null;
  }

  override async waitMany(keys: readonly string[], timeout: number): Promise<AbortEvent | null> {
    if (this.closed || keys.length === 0) return null;
    const seconds = Math.max(1, Math.floor(timeout / 1000));
    // BLPOP holds its connection: one of its own, without a command timeout.
    this.blocking ??= this.newBlockingConnection();
    const connection = this.blocking;
    let reply: [string, string] | null;
    try {
      reply = await this.run("wait for abort events", () =>
        connection.blpop(...keys.map((key) => this.prefix + key), seconds),
      );
    } catch (error) {
      if (this.closed) return null;
      throw error;
    }
    if (!reply) return null;
    const params = decodeEventValue(reply[1]);
    return params ? { key: reply[0].slice(this.prefix.length), params } : null;
  }

  private newBlockingConnection(): Redis {
    const connection = this.client.duplicate({
      commandTimeout: undefined,
      maxRetriesPerRequest: 1,
    });
    connection.on("error", (error: Error) =>
      this.logger.debug(`Redis abort backend blocking connection error: ${error.message}`),
    );
    return connection;
  }

  override async pending(key: string): Promise<boolean> {
    return (await this.run("read an abort event", () => this.client.exists(this.prefix + key))) > 0;
  }

  override async rememberEta(messageId: string, eta: number, ttl: number): Promise<void> {
    await this.run("record a due time", () =>
      this.client.set(
        `${this.prefix}eta:${messageId}`,
        String(eta),
        "PX",
        Math.max(1, Math.ceil(ttl)),
      ),
    );
  }

  override async etaOf(messageId: string): Promise<number | null> {
    const value = await this.run("read a due time", () =>
      this.client.get(`${this.prefix}eta:${messageId}`),
    );
    const eta = value === null ? NaN : Number(value);
    return Number.isFinite(eta) ? eta : null;
  }

  /** Closes the blocking connection, and the client unless it was passed in. */
  override async close(): Promise<void> {
    this.closed = true;
    this.blocking?.disconnect();
    this.blocking = undefined;
    if (this.ownsClient) await closeClient(this.client);
  }
}
