import {
  BrokerError,
  ConnectionClosed,
  ConnectionFailed,
  DramatiqError,
  type Logger,
} from "@dq/core";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import {
  cappedRetry,
  classifyConnectionError,
  closeClient,
  describeConnectionProblem,
  endpointOf,
  failFastOptions,
  waitUntilReady,
  type Endpoint,
} from "@dq/redis-connection";
import { DQ_KEYS, type RedisBrokerOptions } from "./options.js";

/** Hides the password of a Redis URL for messages. */
function describeUrl(url: string | undefined): string {
  if (!url) return "Redis";
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "Redis";
  }
}

/**
 * A RedisBroker's command connection and its policy: the ioredis client (built with fail-fast
 * defaults, or passed in), its connection state, the wait for the first `ready`, and the
 * translation of ioredis failures into dq's errors.
 */
export class RedisConnection {
  /** The ioredis client for commands. */
  readonly client: Redis;
  readonly ownsClient: boolean;
  /** The URL with its password hidden, for messages. */
  readonly where: string;
  /** The name the client gives itself (`CLIENT SETNAME`); others derive theirs from it. */
  readonly connectionName: string;
  private readonly endpoint: Endpoint;
  private readonly connectTimeout: number;
  /** The wait for the first `ready`, shared by the commands issued before it. */
  private readyWait: Promise<void> | undefined;
  /** The last connection-level error, to say why a command failed before Redis was reached. */
  private lastConnectionError: unknown;
  private everReady: boolean;
  private connectionTrouble = false;
  private readonly cluster: boolean;
  /** Set by the broker's `close()`: commands then fail with ConnectionClosed. */
  closed = false;

  /**
   * @param url - the URL without its `namespace` parameter
   * @param lostTrack - called when a command may have run unseen or the connection came back (ack sets may hold orphans)
   */
  constructor(
    options: RedisBrokerOptions,
    url: string | undefined,
    namespace: string,
    brokerId: string,
    private readonly logger: Logger,
    private readonly lostTrack: () => void,
  ) {
    this.where = options.sentinels?.length
      ? `Redis ${endpointOf(undefined, options).address}`
      : describeUrl(options.url);
    this.endpoint = endpointOf(options.url, options);
    this.connectTimeout = options.connectTimeout ?? 5000;
    this.connectionName = `dq:${namespace}:${brokerId}`;
    this.cluster = Boolean(options.cluster);
    const redisOptions: Record<string, unknown> = { ...options };
    for (const key of DQ_KEYS) delete redisOptions[key];
    if (options.client) {
      this.client = options.client;
      this.ownsClient = false;
    } else {
      // Fail commands instead of queueing them forever while Redis is away: producers get a
      // ConnectionError, consumers are restarted by the worker, ioredis keeps reconnecting.
      const defaults = failFastOptions({
        enableOfflineQueue: true,
        retryStrategy: cappedRetry(100, 2000),
        connectionName: this.connectionName,
        // The broker's other commands (heartbeats, counts) of one tick go out in one write; its
        // dispatch calls it batches itself (see DispatchClient.send).
        enableAutoPipelining: true,
      });
      const merged = { ...defaults, ...(redisOptions as RedisOptions) };
      // 0: no timeout (ioredis would time every command out at once).
      if (merged.commandTimeout === 0) delete merged.commandTimeout;
      this.client = options.cluster
        ? // The broker's calls are commands both clients have; the script's keys share one slot.
          (new Cluster(options.cluster, {
            ...options.clusterOptions,
            enableOfflineQueue: true,
            clusterRetryStrategy: cappedRetry(100, 2000),
            redisOptions: merged,
          }) as unknown as Redis)
        : url
          ? new Redis(url, merged)
          : new Redis(merged);
      this.ownsClient = true;
    }
    this.everReady = this.client.status === "ready";
    this.client.on("ready", () => {
      if (this.everReady) this.lostTrack();
      this.everReady = true;
      this.lastConnectionError = undefined;
      if (this.connectionTrouble) this.logger.info(`Reconnected to ${this.where}.`);
      this.connectionTrouble = false;
    });
    this.client.on("close", () => {
      if (this.closed || this.connectionTrouble || !this.everReady) return;
      this.logger.warn(`Lost the connection to ${this.where}; reconnecting.`);
      this.connectionTrouble = true;
    });
    this.client.on("error", (error: unknown) => {
      this.lastConnectionError = error;
      if (!this.connectionTrouble)
        this.logger.warn(`Redis connection error (${this.where}); reconnecting.`, error);
      this.connectionTrouble = true;
    });
  }

  /** Whether Redis has answered at least once: commands need not wait for `ready`. */
  get isReady(): boolean {
    return this.everReady;
  }

  /**
   * Turns an ioredis failure into dq's errors: server replies → BrokerError (a refused
   * authentication → ConnectionFailed), the rest → ConnectionError, saying whether the connection
   * was refused, the host unreachable or the authentication failed when that is known.
   */
  translate(error: unknown): Error {
    if (DramatiqError.isInstance(error)) return error;
    const text = error instanceof Error ? error.message : String(error);
    if (text === "Command timed out") {
      this.lostTrack();
      const limit = this.client.options.commandTimeout;
      return new ConnectionClosed(
        `${this.where} did not answer within ${limit} ms (commandTimeout): is the server paused or overloaded?`,
        { cause: error },
      );
    }
    const problem =
      classifyConnectionError(error) ??
      (this.everReady ? undefined : classifyConnectionError(this.lastConnectionError));
    if (problem) {
      this.lostTrack();
      const detail = classifyConnectionError(error)
        ? text
        : (this.lastConnectionError as Error).message;
      return new ConnectionFailed(
        describeConnectionProblem(problem, this.endpoint, detail, this.connectTimeout),
        { cause: error },
      );
    }
    if (error instanceof Error && error.name === "ReplyError")
      return new BrokerError(`Redis replied with an error: ${text}`, { cause: error });
    // A command that timed out or was cut off may have run (a fetch's ids are then in an ack set).
    this.lostTrack();
    return this.everReady
      ? new ConnectionClosed(`lost the connection to ${this.where}: ${text}`, { cause: error })
      : new ConnectionFailed(`could not connect to ${this.where}: ${text}`, { cause: error });
  }

  /** The error of a command issued after `close()`. */
  closedError(): ConnectionClosed {
    return new ConnectionClosed(`the RedisBroker on ${this.where} is closed`);
  }

  /**
   * Resolves once Redis has answered for the first time; rejects with the reason (refused,
   * unreachable, authentication failed, timed out) when it does not within `connectTimeout`.
   */
  firstReady(): Promise<void> {
    this.readyWait ??= waitUntilReady(
      this.client,
      this.endpoint,
      this.connectTimeout,
      this.lastConnectionError,
    ).catch((error: unknown) => {
      this.readyWait = undefined;
      throw error;
    });
    return this.readyWait;
  }

  /**
   * Runs one ioredis call once Redis has answered, translating its failure.
   * @throws ConnectionClosed / ConnectionFailed when Redis is lost or unreachable
   */
  async command<T>(run: () => Promise<T>): Promise<T> {
    if (this.closed) throw this.closedError();
    if (!this.everReady) await this.firstReady();
    try {
      return await run();
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** A second connection like this one, for the WakeupHub's Pub/Sub (never fails a command). */
  subscriber(): Redis {
    const redisOptions = {
      connectionName: `${this.connectionName}:wakeup`,
      maxRetriesPerRequest: null,
    };
    return this.cluster
      ? // A Cluster's duplicate takes startup nodes first; its subscriber picks one node.
        ((this.client as unknown as Cluster).duplicate([], { redisOptions }) as unknown as Redis)
      : this.client.duplicate(redisOptions);
  }

  /** Closes the client when the broker created it. */
  async close(): Promise<void> {
    if (this.ownsClient) await closeClient(this.client);
  }
}
