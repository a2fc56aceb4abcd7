import {
  checkOptions,
  classifyConnectionError,
  closeClient,
  describeConnectionProblem,
  DURABLE_WRITE_EXPECTED,
  durableWriteOptions,
  durableWriteSchema,
  endpointOf,
  failFastOptions,
  ReplicaWaiter,
  type DurableWriteOptions,
} from "@dq/redis-connection";
import { Redis, type RedisOptions } from "ioredis";
import {
  ConnectionError,
  ConnectionFailed,
  ResultBackend,
  ResultMissing,
  ResultTimeout,
  getLogger,
  type Logger,
  type Message,
  type ResultBackendOptions,
} from "@dq/core";
import { z } from "zod";
import { Missing } from "@dq/core/adapter";

/** What `RedisResultBackend` takes: the result-backend options, a connection, and ioredis options. */
export interface RedisResultBackendOptions
  extends ResultBackendOptions, Omit<RedisOptions, "lazyConnect"> {
  /** `redis://[user:password@]host:port/db` (default `redis://127.0.0.1:6379`). Ignored with `client`. */
  url?: string;
  /**
   * An ioredis client to use instead of connecting. The backend never closes it; blocking reads
   * use `client.duplicate()` connections, which the backend owns and closes.
   */
  client?: Redis;
  /** Where connection problems are logged (default: dq's `dq.RedisResultBackend` logger). */
  logger?: Logger;
  /** Blocking-read connections kept open between reads (default 4). */
  maxIdleBlockingConnections?: number;
  /**
   * A store counts as done only once this many replicas have it (`WAIT`): `true` for one replica
   * within 1000 ms, or `{ replicas, timeout }`. Off by default (Redis replicates asynchronously:
   * a failover can lose results the master acknowledged). A store that reached too few replicas
   * fails with NotReplicated (a ConnectionError), which the Results middleware retries.
   */
  durableStores?: boolean | DurableWriteOptions;
}

const DEFAULT_URL = "redis://127.0.0.1:6379";

/** The options the backend reads itself (the rest goes to ioredis). */
const optionsSchema = z.object({
  url: z.string().optional(),
  maxIdleBlockingConnections: z.number().int().min(0).optional(),
  durableStores: durableWriteSchema,
});

/**
 * A result backend on Redis, wire-compatible with Python Dramatiq's `RedisBackend`: each result is
 * a one-element LIST under the MD5 key (`MULTI: DEL; LPUSH; PEXPIRE`), read with `LINDEX key 0`;
 * blocking reads run `BRPOPLPUSH key key <seconds>` on a dedicated connection, so they return as
 * soon as the result is stored and leave it in place for other readers.
 *
 * Unlike Python, which truncates the wait to whole seconds, a blocking read waits the exact
 * timeout: sub-second timeouts are sent as decimal seconds, which needs Redis ≥ 6.
 */
export class RedisResultBackend extends ResultBackend {
  /** The connection for stores and non-blocking reads. */
  readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly logger: Logger;
  private readonly connectTimeout: number;
  private readonly maxIdleBlocking: number;
  private readonly idleBlocking: Redis[] = [];
  private readonly busyBlocking = new Set<Redis>();
  private closed = false;
  private readonly replicas: ReplicaWaiter | undefined;

  constructor(options: RedisResultBackendOptions = {}) {
    const {
      namespace,
      encoder,
      useNamespacePrefixKeys,
      url,
      client,
      logger,
      maxIdleBlockingConnections,
      durableStores,
      ...redisOptions
    } = options;
    super({ namespace, encoder, useNamespacePrefixKeys });
    checkOptions(optionsSchema, options as Record<string, unknown>, {
      url: "a redis:// URL string",
      maxIdleBlockingConnections: "an integer >= 0",
      durableStores: DURABLE_WRITE_EXPECTED,
    });
    this.logger = logger ?? getLogger("dq.RedisResultBackend");
    this.maxIdleBlocking = maxIdleBlockingConnections ?? 4;
    this.connectTimeout = redisOptions.connectTimeout ?? 2000;
    if (client) {
      this.client = client;
      this.ownsClient = false;
    } else {
      // Fail fast instead of queueing commands while the server is away: a caller gets a
      // ConnectionError within `connectTimeout`, and the client keeps reconnecting in the background.
      // The shared policy (one retry, 5 s command timeout: a paused or hung server fails the command
      // instead of hanging it; blocking reads opt out), without the offline queue.
      const clientOptions = {
        ...failFastOptions({ connectTimeout: this.connectTimeout, enableOfflineQueue: false }),
        ...redisOptions,
        lazyConnect: true,
      };
      // With `sentinels`, ioredis asks them for the master: no URL needed.
      this.client =
        url || !redisOptions.sentinels?.length
          ? new Redis(url ?? DEFAULT_URL, clientOptions)
          : new Redis(clientOptions);
      this.ownsClient = true;
      this.watchErrors(this.client);
    }
    const durable = durableWriteOptions(durableStores);
    if (durable)
      this.replicas = new ReplicaWaiter(this.client, this.address, durable, (command) =>
        this.run(this.client, "wait for replicas", command),
      );
  }

  /** `host:port` of the server, for error messages. */
  private readonly readyWaits = new WeakMap<Redis, Promise<void>>();

  private get address(): string {
    const { host, port, path, sentinels } = this.client.options;
    if (sentinels?.length) return endpointOf(undefined, this.client.options).address;
    return path ?? `${host ?? "?"}:${port ?? "?"}`;
  }

  // ioredis prints unhandled "error" events to the console; route them to the logger instead.
  private watchErrors(connection: Redis): void {
    connection.on("error", (error: Error) =>
      this.logger.debug(
        `Redis result backend connection error (${this.address}): ${error.message}`,
      ),
    );
  }

  /**
   * Waits until `connection` is ready, connecting a lazy one; a ConnectionFailed after
   * `connectTimeout`. Commands issued while it is not ready share one wait (one pair of listeners,
   * however many commands an outage holds back).
   */
  private async ready(connection: Redis): Promise<void> {
    if (connection.status === "ready") return;
    if (this.closed)
      throw new ConnectionFailed(`the Redis result backend (${this.address}) is closed`);
    if (connection.status === "end")
      throw new ConnectionFailed(`the connection to Redis at ${this.address} is closed`);
    let wait = this.readyWaits.get(connection);
    if (!wait) {
      wait = this.waitReady(connection).finally(() => this.readyWaits.delete(connection));
      this.readyWaits.set(connection, wait);
    }
    await wait;
  }

  private waitReady(connection: Redis): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        connection.off("ready", onReady);
        connection.off("error", onError);
        connection.off("end", onEnd);
        if (error)
          reject(
            new ConnectionFailed(
              `could not connect to Redis at ${this.address}: ${this.describe(error)}`,
              { cause: error },
            ),
          );
        else resolve();
      };
      const onReady = () => done();
      const onError = (error: Error) => done(error);
      const onEnd = () => done(new Error("connection closed"));
      const timer = setTimeout(
        () => done(new Error(`not connected after ${this.connectTimeout} ms`)),
        this.connectTimeout,
      );
      connection.on("ready", onReady);
      connection.on("error", onError);
      connection.on("end", onEnd);
      // A lazy connection starts here; its failure also arrives as an "error" event.
      if (connection.status === "wait") connection.connect().catch(() => undefined);
    });
  }

  /** The text of a connection failure: one of the named problems when it is one (the shared policy). */
  private describe(error: Error): string {
    const problem = classifyConnectionError(error);
    return problem
      ? describeConnectionProblem(
          problem,
          { address: this.address, url: undefined },
          error.message,
          this.connectTimeout,
        )
      : error.message;
  }

  /** Runs a command once the connection is ready, turning I/O failures into ConnectionError. */
  private async run<T>(connection: Redis, what: string, command: () => Promise<T>): Promise<T> {
    await this.ready(connection);
    try {
      return await command();
    } catch (error) {
      if (error instanceof Error && error.name === "ReplyError") throw error;
      const text = error instanceof Error ? error.message : String(error);
      throw new ConnectionError(
        `Redis result backend (${this.address}) failed to ${what}: ${text}`,
        { cause: error },
      );
    }
  }

  /**
   * Reads a message's result; with `block`, waits on the server (`BRPOPLPUSH`) until it is stored.
   * @throws ResultMissing when not blocking and nothing is stored
   * @throws ResultTimeout when blocking and nothing arrives within `timeout` (default 10 000 ms)
   * @throws ResultFailure when the actor failed
   * @throws ConnectionError when Redis cannot be reached
   * @throws DecodeError when the stored value does not decode
   */
  override async getResult<R>(
    message: Message<R>,
    options: { block?: boolean; timeout?: number } = {},
  ): Promise<R> {
    const key = this.buildMessageKey(message);
    if (!options.block) {
      const value = await this.getValue(key);
      if (value === Missing)
        throw new ResultMissing(
          `no result stored for message ${message.messageId} (${message.actorName}) under key ${key} (results are kept only for actors or messages with storeResults: true)`,
        );
      return this.unwrapResult(value) as R;
    }
    const timeout = options.timeout ?? 10_000;
    const data = await this.blockingRead(key, timeout);
    if (data === null)
      throw new ResultTimeout(
        `timed out after ${timeout} ms waiting for the result of message ${message.messageId} (${message.actorName})`,
      );
    return this.unwrapResult(this.decodeStored("Redis", key, data)) as R;
  }

  // BRPOPLPUSH blocks its connection, so each concurrent blocking read gets its own.
  private async blockingRead(key: string, timeout: number): Promise<Buffer | null> {
    const connection = this.idleBlocking.pop() ?? this.newBlockingConnection();
    this.busyBlocking.add(connection);
    let healthy = false;
    try {
      const seconds = Math.max(0, timeout) / 1000;
      // Rotating the only element onto the same list leaves it (and its TTL) in place for other readers.
      const data = await this.run(connection, "wait for a result", () =>
        seconds > 0
          ? connection.brpoplpushBuffer(key, key, seconds)
          : connection.rpoplpushBuffer(key, key),
      );
      healthy = true;
      return data;
    } finally {
      this.busyBlocking.delete(connection);
      if (healthy && !this.closed && this.idleBlocking.length < this.maxIdleBlocking)
        this.idleBlocking.push(connection);
      else connection.disconnect();
    }
  }

  private newBlockingConnection(): Redis {
    // Blocking reads may legitimately take longer than any command timeout; retrying one after a
    // lost connection is left to the caller.
    const connection = this.client.duplicate({
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: undefined,
    });
    this.watchErrors(connection);
    return connection;
  }

  /** @returns the decoded value under `key` (`LINDEX key 0`), or `Missing` */
  protected async getValue(key: string): Promise<unknown> {
    const data = await this.run(this.client, "read a result", () =>
      this.client.lindexBuffer(key, 0),
    );
    return data === null ? Missing : this.decodeStored("Redis", key, data);
  }

  /** Stores `data` as the only element of the list `key`, expiring after `ttl` ms. */
  protected async storeValue(key: string, data: Buffer, ttl: number): Promise<void> {
    const generation = this.replicas?.generation ?? 0;
    const replies = await this.run(this.client, "store a result", () =>
      this.client.multi().del(key).lpush(key, data).pexpire(key, Math.floor(ttl)).exec(),
    );
    const failed = replies?.find(([error]) => error);
    if (!replies || failed)
      throw new ConnectionError(
        `Redis result backend (${this.address}) failed to store a result under key ${key}: ${failed?.[0]?.message ?? "transaction aborted"}`,
      );
    await this.replicas?.afterWrite(generation);
  }

  /** Closes the backend's own connections (not a `client` passed in). */
  override async close(): Promise<void> {
    this.closed = true;
    for (const connection of [...this.idleBlocking.splice(0), ...this.busyBlocking])
      connection.disconnect();
    this.busyBlocking.clear();
    if (this.ownsClient) await closeClient(this.client);
  }
}
