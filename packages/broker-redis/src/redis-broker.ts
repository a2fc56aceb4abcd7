import { createHash, randomUUID } from "node:crypto";
import { Broker, BrokerError, ConnectionClosed, ConnectionFailed, DramatiqError, InvalidOptionError, Message, QueueJoinTimeout, QueueNotFound, getEncoder, JSONEncoder, messageJson, type BrokerCapabilities, type BrokerOptions, type ConsumeOptions, type Consumer, type JoinOptions, type MessageOptions } from "@dq/core";
import { canonicalQueueName, delayQueueName, envInteger, sleep, uuid4 } from "@dq/core/adapter";
import { Command, Redis, type RedisOptions } from "ioredis";
import { AckReconciler } from "./ack-reconciler.js";
import { classifyConnectionError, describeConnectionProblem, endpointOf, waitUntilReady, type Endpoint } from "./connection-errors.js";
import { DISPATCH_SCRIPT, MAX_STACK_SCRIPT } from "./dispatch-script.js";
import { splitNamespace } from "./url.js";
import { RedisConsumer } from "./redis-consumer.js";
import { WakeupHub } from "./wakeup-hub.js";

/** What `new RedisBroker(options)` takes: dq's options, then any ioredis option. */
export interface RedisBrokerOptions extends BrokerOptions, Omit<RedisOptions, "keyPrefix"> {
  /**
   * `redis://[user:pass@]host:port/db` or `rediss://...`; ioredis defaults when omitted. A
   * `namespace` query parameter (`redis://host:6379/0?namespace=app`) sets `namespace`.
   */
  url?: string;
  /** An ioredis client to use instead of creating one (the broker then does not close it). */
  client?: Redis;
  /** Key prefix shared with Python workers (default `dramatiq`). */
  namespace?: string;
  /** A broker whose heartbeat is older than this many ms is dead; its unacked messages are requeued (default 60 000). */
  heartbeatTimeout?: number;
  /** Dead letters older than this many ms are dropped during maintenance (default 7 days). */
  deadMessageTtl?: number;
  /** Chance per million that a dispatch call also runs maintenance (default 1000, i.e. 0.1 %). */
  maintenanceChance?: number;
  /**
   * A command without a reply after this many ms fails with `ConnectionClosed` (default 5000; 0:
   * none), so a paused or hung Redis makes `send()` reject instead of hanging; ioredis's
   * `commandTimeout`. Not applied to a `client` passed in (set it there).
   */
  commandTimeout?: number;
}

/** Message counts of one queue, from `getQueueMessageCounts`. */
export interface QueueMessageCounts {
  /** Waiting on `ns:q`. */
  ready: number;
  /** Stored in `ns:q.msgs` but not waiting: fetched by some worker and not yet acked. */
  inFlight: number;
  /** Stored in `ns:q.DQ.msgs`: delayed messages, waiting or held by workers. */
  delayed: number;
  /** Dead letters in `ns:q.XQ`. */
  deadLettered: number;
}

/** A dead-lettered message, from `getDeadLetters`. */
export interface DeadLetter {
  /** The id it had in Redis (its `redis_message_id`). */
  redisMessageId: string;
  /** UNIX ms when it was dead-lettered. */
  deadLetteredAt: number;
  /** The stored bytes. */
  data: Buffer;
  /** The decoded message, or undefined when the bytes do not decode. */
  message: Message | undefined;
}

type DispatchArgument = string | number | Buffer;

const MAINTENANCE_SCALE = 1_000_000;
/** How long a broker's `__consumed__` record outlives its last beat or fetch (as in the script). */
const CONSUMED_TTL = 604_800_000;
/** Default `commandTimeout` in ms. */
export const DEFAULT_COMMAND_TIMEOUT = 5000;
const DISPATCH_SHA = createHash("sha1").update(DISPATCH_SCRIPT).digest("hex");
const isNoScript = (error: unknown) => error instanceof Error && error.message.startsWith("NOSCRIPT");
const DQ_KEYS = ["url", "client", "namespace", "heartbeatTimeout", "deadMessageTtl", "maintenanceChance", "middleware", "logger", "clock"] as const;

let maxUnpackSize: Promise<number> | undefined;
/** Its value once probed: dispatch calls then go out without waiting for a promise. */
let knownUnpackSize: number | undefined;

/** Messages per `enqueue_many` call: keeps each script call short (Redis runs it atomically). */
const ENQUEUE_BATCH = 500;

function lastKey(object: object): string | undefined {
  let last: string | undefined;
  for (const key in object) last = key;
  return last;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new InvalidOptionError(`invalid ${name} ${String(value)}: expected a number >= 0`);
  return value;
}

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
 * A broker on Redis, sharing queues with Python Dramatiq's `RedisBroker`: the same keys, the same
 * command semantics (one Lua `dispatch` script, called with EVALSHA), the same heartbeats and
 * maintenance. dq adds pipelined bulk enqueues, prefetching fetches, Pub/Sub wake-ups for idle
 * consumers, and a heartbeat timer that keeps long-running messages from being requeued.
 */
export class RedisBroker extends Broker {
  readonly namespace: string;
  /** This broker's id in `__heartbeats__` and `__acks__.<id>.<queue>`. */
  readonly brokerId = randomUUID();
  readonly heartbeatTimeout: number;
  readonly deadMessageTtl: number;
  readonly maintenanceChance: number;
  /** The ioredis client for commands. */
  readonly client: Redis;
  /** @internal */
  readonly wakeups: WakeupHub;
  private readonly ownsClient: boolean;
  private readonly where: string;
  private readonly endpoint: Endpoint;
  private readonly connectTimeout: number;
  /** The wait for the first `ready`, shared by the commands issued before it. */
  private readyWait: Promise<void> | undefined;
  /** The last connection-level error, to say why a command failed before Redis was reached. */
  private lastConnectionError: unknown;
  private everReady: boolean;
  private connectionTrouble = false;
  private readonly consumers = new Set<RedisConsumer>();
  /** Closed consumers whose deliveries are still being processed (acked later through them). */
  private readonly retired = new Set<RedisConsumer>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** @internal Reconciles the ack sets with what the consumers hold (see AckReconciler). */
  readonly acks: AckReconciler = new AckReconciler({
    logger: this.logger,
    holders: (queueName) => [...this.consumers, ...this.retired].filter((consumer) => consumer.queueName === queueName),
    readAckSet: (queueName) => this.command(() => this.client.smembers(`${this.namespace}:__acks__.${this.brokerId}.${queueName}`)),
    syncHandOffs: () => this.wakeups.sync(),
    requeue: (queueName, ids) => this.requeueIds(queueName, ids),
  });

  /**
   * @throws InvalidOptionError on a negative timeout, TTL or chance
   */
  constructor(options: RedisBrokerOptions = {}) {
    super(options);
    const fromUrl = splitNamespace(options.url);
    this.namespace = options.namespace ?? fromUrl.namespace ?? "dramatiq";
    this.heartbeatTimeout = nonNegative("heartbeatTimeout", options.heartbeatTimeout ?? 60_000);
    this.deadMessageTtl = nonNegative("deadMessageTtl", options.deadMessageTtl ?? 604_800_000);
    this.maintenanceChance = nonNegative("maintenanceChance", options.maintenanceChance ?? 1000);
    if (options.commandTimeout !== undefined) nonNegative("commandTimeout", options.commandTimeout);
    this.where = describeUrl(options.url);
    this.endpoint = endpointOf(options.url, options);
    this.connectTimeout = options.connectTimeout ?? 5000;
    const redisOptions: Record<string, unknown> = { ...options };
    for (const key of DQ_KEYS) delete redisOptions[key];
    const connectionName = `dq:${this.namespace}:${this.brokerId}`;
    if (options.client) {
      this.client = options.client;
      this.ownsClient = false;
    } else {
      // Fail commands instead of queueing them forever while Redis is away: producers get a
      // ConnectionError, consumers are restarted by the worker, ioredis keeps reconnecting.
      const defaults: RedisOptions = {
        maxRetriesPerRequest: 1,
        connectTimeout: 5000,
        enableOfflineQueue: true,
        retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
        commandTimeout: DEFAULT_COMMAND_TIMEOUT,
        connectionName,
        // The broker's other commands (heartbeats, counts) of one tick go out in one write; its
        // dispatch calls it batches itself (see sendDispatch).
        enableAutoPipelining: true,
      };
      const merged = { ...defaults, ...(redisOptions as RedisOptions) };
      // 0: no timeout (ioredis would time every command out at once).
      if (merged.commandTimeout === 0) delete merged.commandTimeout;
      this.client = fromUrl.url ? new Redis(fromUrl.url, merged) : new Redis(merged);
      this.ownsClient = true;
    }
    this.everReady = this.client.status === "ready";
    this.client.on("ready", () => {
      if (this.everReady) this.acks.markUnreconciled();
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
      if (!this.connectionTrouble) this.logger.warn(`Redis connection error (${this.where}); reconnecting.`, error);
      this.connectionTrouble = true;
    });
    this.wakeups = new WakeupHub(
      this.namespace,
      this.brokerId,
      () => this.client.duplicate({ connectionName: `${connectionName}:wakeup`, maxRetriesPerRequest: null }),
      this.logger,
      {
        requeue: (queueName, id) => this.requeueIds(queueName, [id]),
        // A hand-off lost with the old connection sits in the ack set: consumers look for it.
        reconnected: () => this.acks.markUnreconciled(),
      },
    );
  }

  get capabilities(): BrokerCapabilities {
    return { delay: true, deadLetters: true, exactJoin: true, requeue: true };
  }

  /**
   * Half of the largest `unpack` this Redis accepts, probed once per process (env
   * `dramatiq_lua_max_stack` overrides the probe), as Dramatiq does.
   */
  private maxUnpackSize(): Promise<number> {
    if (!maxUnpackSize) {
      const override = envInteger("dramatiq_lua_max_stack", 0);
      maxUnpackSize = (
        override
          ? Promise.resolve(Math.max(1, Math.floor(override / 2)))
          : this.command(() => this.client.eval(MAX_STACK_SCRIPT, 0)).then((size) => Math.max(1, Math.floor(Number(size) / 2)))
      ).then((size) => (knownUnpackSize = size));
      maxUnpackSize.catch(() => (maxUnpackSize = undefined));
    }
    return maxUnpackSize;
  }

  /**
   * Turns an ioredis failure into dq's errors: server replies → BrokerError (a refused
   * authentication → ConnectionFailed), the rest → ConnectionError, saying whether the connection
   * was refused, the host unreachable or the authentication failed when that is known.
   */
  private translate(error: unknown): Error {
    if (DramatiqError.isInstance(error)) return error;
    const text = error instanceof Error ? error.message : String(error);
    if (text === "Command timed out") {
      this.acks.markUnreconciled();
      const limit = this.client.options.commandTimeout;
      return new ConnectionClosed(`${this.where} did not answer within ${limit} ms (commandTimeout): is the server paused or overloaded?`, { cause: error });
    }
    const problem = classifyConnectionError(error) ?? (this.everReady ? undefined : classifyConnectionError(this.lastConnectionError));
    if (problem) {
      this.acks.markUnreconciled();
      const detail = classifyConnectionError(error) ? text : (this.lastConnectionError as Error).message;
      return new ConnectionFailed(describeConnectionProblem(problem, this.endpoint, detail, this.connectTimeout), { cause: error });
    }
    if (error instanceof Error && error.name === "ReplyError") return new BrokerError(`Redis replied with an error: ${text}`, { cause: error });
    // A command that timed out or was cut off may have run (a fetch's ids are then in an ack set).
    this.acks.markUnreconciled();
    return this.everReady
      ? new ConnectionClosed(`lost the connection to ${this.where}: ${text}`, { cause: error })
      : new ConnectionFailed(`could not connect to ${this.where}: ${text}`, { cause: error });
  }

  /**
   * Resolves once Redis has answered for the first time; rejects with the reason (refused,
   * unreachable, authentication failed, timed out) when it does not within `connectTimeout`.
   */
  private firstReady(): Promise<void> {
    this.readyWait ??= waitUntilReady(this.client, this.endpoint, this.connectTimeout, this.lastConnectionError).catch((error: unknown) => {
      this.readyWait = undefined;
      throw error;
    });
    return this.readyWait;
  }

  private async command<T>(run: () => Promise<T>): Promise<T> {
    if (this.closed) throw new ConnectionClosed(`the RedisBroker on ${this.where} is closed`);
    if (!this.everReady) await this.firstReady();
    try {
      return await run();
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** 1 with probability maintenanceChance / 1 000 000 (Dramatiq's `do_maintenance`), else 0. */
  private rollMaintenance(): 0 | 1 {
    return Math.floor(Math.random() * MAINTENANCE_SCALE) < this.maintenanceChance ? 1 : 0;
  }

  private dispatchArguments(queueName: string, command: string, args: readonly DispatchArgument[], maintenance: boolean, unpack: number): DispatchArgument[] {
    const doMaintenance = maintenance ? this.rollMaintenance() : 0;
    return [this.namespace, command, this.clock.now(), queueName, this.brokerId, this.heartbeatTimeout, this.deadMessageTtl, doMaintenance, unpack, ...args];
  }

  /**
   * @internal Runs one command of the dispatch script (`ack` and `nack` never run maintenance).
   * @throws ConnectionClosed / ConnectionFailed when Redis is lost or unreachable
   */
  dispatch(queueName: string, command: string, args: readonly DispatchArgument[] = [], { maintenance = true } = {}): Promise<unknown> {
    return this.runDispatch(queueName, command, args, maintenance, "utf8");
  }

  /** @internal Like `dispatch`, with bulk replies as Buffers (message bytes stay bytes). */
  dispatchBuffers(queueName: string, command: string, args: readonly DispatchArgument[] = []): Promise<unknown> {
    return this.runDispatch(queueName, command, args, true, null);
  }

  /**
   * Queues one dispatch call for this tick's write. Once the unpack size is known this takes no
   * promise but the call's own and no tick: it is on the path of every enqueue and every ack,
   * where each await costs latency (measured: ~5 µs of a round trip on an idle worker).
   */
  private runDispatch(queueName: string, command: string, args: readonly DispatchArgument[], maintenance: boolean, replyEncoding: "utf8" | null): Promise<unknown> {
    if (this.closed) return Promise.reject(new ConnectionClosed(`the RedisBroker on ${this.where} is closed`));
    if (!this.everReady) return this.firstReady().then(() => this.runDispatch(queueName, command, args, maintenance, replyEncoding));
    const unpack = knownUnpackSize;
    if (unpack === undefined) return this.maxUnpackSize().then(() => this.runDispatch(queueName, command, args, maintenance, replyEncoding));
    return this.sendDispatch(this.dispatchArguments(queueName, command, args, maintenance, unpack), replyEncoding);
  }

  /** Dispatch calls issued since the last flush, in call order. */
  private outgoing: Command[] = [];

  /**
   * Runs the dispatch script by EVALSHA (EVAL when Redis does not have it, which caches it again).
   * Calls issued in the same tick are written together on `process.nextTick`, in call order: one
   * socket write per batch, without ioredis auto-pipelining's wait for the next loop turn (about
   * 35 µs of a round trip's latency) or its pipeline and script wrappers per call.
   */
  private sendDispatch(full: DispatchArgument[], replyEncoding: "utf8" | null, writeNow = false): Promise<unknown> {
    const evalsha = new Command("evalsha", [DISPATCH_SHA, 1, ...full], { replyEncoding });
    // writeNow: written at once, after the calls waiting for the tick (call order is kept).
    if (writeNow) {
      this.outgoing.push(evalsha);
      this.flushOutgoing();
    } else if (this.outgoing.push(evalsha) === 1) {
      process.nextTick(this.flushOutgoing);
    }
    return evalsha.promise.then(undefined, (error: unknown) => {
      if (!isNoScript(error)) throw this.translate(error);
      const evaluate = new Command("eval", [DISPATCH_SCRIPT, 1, ...full], { replyEncoding });
      this.client.sendCommand(evaluate);
      return evaluate.promise.then(undefined, (evalError: unknown) => {
        throw this.translate(evalError);
      });
    });
  }

  private readonly flushOutgoing = (): void => {
    const commands = this.outgoing;
    if (commands.length === 0) return;
    this.outgoing = [];
    const stream = this.client.status === "ready" ? this.client.stream : undefined;
    stream?.cork();
    try {
      for (const command of commands) this.client.sendCommand(command);
    } finally {
      stream?.uncork();
    }
  };

  /** @internal Puts fetched ids back on the tail of their queue (the script wakes idle consumers). */
  async requeueIds(queueName: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const unpack = await this.maxUnpackSize();
    for (let index = 0; index < ids.length; index += unpack) {
      await this.dispatch(queueName, "requeue", ids.slice(index, index + unpack));
    }
  }

  /**
   * Adds a fresh `redisMessageId` to every enqueued copy, where Python puts it: in place when the
   * message already has one, else after the existing options (before an `eta` added by this enqueue).
   */
  protected override decorateMessage<R>(message: Message<R>): Message<R> {
    const id = uuid4();
    const current = message.options;
    let options: MessageOptions;
    if ("redisMessageId" in current) {
      options = { ...current, redisMessageId: id };
    } else if ("eta" in current && lastKey(current) === "eta") {
      const { eta, ...rest } = current;
      options = { ...rest, redisMessageId: id, eta };
    } else {
      options = { ...current, redisMessageId: id };
    }
    return new Message<R>({
      queueName: message.queueName,
      actorName: message.actorName,
      args: message.args,
      kwargs: message.kwargs,
      options,
      messageId: message.messageId,
      messageTimestamp: message.messageTimestamp,
    });
  }

  /**
   * Enqueues the messages: one `enqueue` call for a single message of a queue, else
   * `enqueue_many` calls of up to ENQUEUE_BATCH messages (the effects of one `enqueue` per
   * message, in order). The script publishes the wake-ups. Not atomic: when a message fails to
   * encode, the chunks before it are already enqueued (as with one `enqueue` per message).
   * @throws ConnectionClosed / ConnectionFailed when Redis is lost or unreachable
   */
  protected publish(messages: readonly Message[]): Promise<void> {
    try {
      if (messages.length === 1) {
        // One send: no async function and no await on its way to the write.
        const message = messages[0]!;
        const data = this.encodeForDispatch(message);
        return this.dispatch(message.queueName, "enqueue", [message.options.redisMessageId!, data]) as Promise<void>;
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.publishMany(messages);
  }

  /**
   * A message's bytes for the dispatch script. The default encoder's output is pure ASCII
   * (messageJson), so the string is the exact bytes; passed as a string, ioredis writes it without
   * an intermediate Buffer and a second copy.
   */
  private encodeForDispatch(message: Message): DispatchArgument {
    if (typeof message.options.redisMessageId !== "string") throw new InvalidOptionError(`message ${message.messageId} has no redisMessageId`);
    return getEncoder().constructor === JSONEncoder ? messageJson(message.asDict()) : message.encode();
  }

  private async publishMany(messages: readonly Message[]): Promise<void> {
    if (messages.length === 0) return;
    const unpack = await this.maxUnpackSize();
    const calls: Promise<unknown>[] = [];
    const send = (queueName: string, chunk: DispatchArgument[]) => {
      const count = chunk.length / 2;
      // Maintenance as likely as with one call per message.
      let maintenance = 0;
      for (let roll = 0; roll < count && !maintenance; roll++) maintenance = this.rollMaintenance();
      const command = count === 1 ? "enqueue" : "enqueue_many";
      const full = [this.namespace, command, this.clock.now(), queueName, this.brokerId, this.heartbeatTimeout, this.deadMessageTtl, maintenance, unpack, ...chunk];
      calls.push(this.sendDispatch(full, "utf8", true));
    };
    // Each full chunk is written as soon as it is encoded, so Redis runs it while the next one is
    // encoded (the two took turns before: ~40 % of a bulk enqueue's time).
    const chunks = new Map<string, DispatchArgument[]>();
    let failed = false;
    let failure: unknown;
    try {
      for (const message of messages) {
        const data = this.encodeForDispatch(message);
        let chunk = chunks.get(message.queueName);
        if (!chunk) chunks.set(message.queueName, (chunk = []));
        if (chunk.push(message.options.redisMessageId!, data) === 2 * ENQUEUE_BATCH) {
          send(message.queueName, chunk);
          chunks.set(message.queueName, []);
        }
      }
      for (const [queueName, chunk] of chunks) if (chunk.length > 0) send(queueName, chunk);
    } catch (error) {
      failed = true;
      failure = error;
    }
    // Every call sent is awaited before an error is reported, so none is left unobserved.
    const results = await Promise.allSettled(calls);
    if (failed) throw failure;
    for (const result of results) if (result.status === "rejected") throw this.translate(result.reason);
  }

  /**
   * Stores raw bytes on a queue as another producer would, bypassing encoding (to test bad input).
   * @returns the redis message id used
   */
  async enqueueRaw(queueName: string, data: Buffer | string): Promise<string> {
    const id = uuid4();
    await this.dispatch(queueName, "enqueue", [id, data]);
    return id;
  }

  /**
   * Consumes `queueName` (a declared queue or its `.DQ`).
   * @param options - `prefetch` (default 1) and `timeout` in ms before `next()` yields null (default 5000)
   * @throws QueueNotFound when the queue was never declared
   */
  consume(queueName: string, options: ConsumeOptions = {}): Consumer {
    if (!this.queues.has(canonicalQueueName(queueName))) {
      throw new QueueNotFound(`queue ${JSON.stringify(queueName)} is not declared on this broker`);
    }
    const consumer = new RedisConsumer(this, queueName, Math.max(1, options.prefetch ?? 1), Math.max(1, options.timeout ?? 5000));
    this.consumers.add(consumer);
    this.startHeartbeat();
    return consumer;
  }

  /** @internal A consumer closed: it stays known while the worker still settles its deliveries. */
  forgetConsumer(consumer: RedisConsumer): void {
    this.consumers.delete(consumer);
    if (consumer.outstanding > 0) this.retired.add(consumer);
    if (this.consumers.size === 0 && this.retired.size === 0) this.stopHeartbeat();
  }

  /** @internal A closed consumer settled its last delivery. */
  retiredConsumerSettled(consumer: RedisConsumer): void {
    if (!this.retired.delete(consumer)) return;
    if (this.consumers.size === 0 && this.retired.size === 0) this.stopHeartbeat();
  }

  // Beats independently of fetches so that a worker busy with long messages (prefetch full, no
  // fetch calls) is not taken for dead and has its messages requeued (Dramatiq #692).
  private startHeartbeat(): void {
    if (this.heartbeatTimer || this.closed) return;
    const interval = Math.max(10, Math.min(15_000, Math.floor(this.heartbeatTimeout / 4)));
    const record = `${this.namespace}:__consumed__.${this.brokerId}`;
    const beat = () => {
      // The record of the queues it consumes comes with the entry (one MULTI): maintenance finds
      // every ack set of this broker from it, should it die, and removes its entry.
      const queues = [...new Set([...this.consumers, ...this.retired].map((consumer) => consumer.queueName))];
      const transaction = this.client.multi();
      if (queues.length) transaction.sadd(record, ...queues).pexpire(record, CONSUMED_TTL);
      transaction.zadd(`${this.namespace}:__heartbeats__`, this.clock.now(), this.brokerId);
      transaction.exec().then(
        () => undefined,
        (error: unknown) => this.logger.debug("Could not refresh the heartbeat.", error),
      );
    };
    beat();
    this.heartbeatTimer = setInterval(beat, interval);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /** Drops every message of a queue and its delay queue, and its dead letters. */
  async flush(queueName: string): Promise<void> {
    await this.dispatch(canonicalQueueName(queueName), "purge");
    await this.dispatch(delayQueueName(queueName), "purge");
  }

  /** Flushes every declared queue. */
  async flushAll(): Promise<void> {
    for (const queueName of this.queues) await this.flush(queueName);
  }

  /**
   * Polls `qsize` (queued + in-flight of `q` and `q.DQ`) every `interval` ms until it is 0.
   * @throws QueueJoinTimeout after `timeout` ms
   */
  async join(queueName: string, options: JoinOptions & { interval?: number } = {}): Promise<void> {
    const name = canonicalQueueName(queueName);
    const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout;
    const interval = options.interval ?? 100;
    for (;;) {
      const size = Number(await this.dispatch(name, "qsize"));
      if (size === 0) return;
      if (Date.now() >= deadline) {
        throw new QueueJoinTimeout(`timed out after ${options.timeout} ms waiting for queue ${JSON.stringify(name)} to drain (${size} left)`);
      }
      await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
    }
  }

  /**
   * Counts a queue's messages with plain reads (no maintenance, no heartbeat).
   * @throws ConnectionClosed / ConnectionFailed when Redis is lost or unreachable
   */
  async getQueueMessageCounts(queueName: string): Promise<QueueMessageCounts> {
    const name = canonicalQueueName(queueName);
    const key = `${this.namespace}:${name}`;
    const results = await this.command(() =>
      this.client.pipeline().llen(key).hlen(`${key}.msgs`).hlen(`${key}.DQ.msgs`).zcard(`${key}.XQ`).exec(),
    );
    const [ready, stored, delayed, deadLettered] = (results ?? []).map(([error, value]) => {
      if (error) throw this.translate(error);
      return Number(value);
    });
    return { ready: ready!, inFlight: Math.max(0, stored! - ready!), delayed: delayed!, deadLettered: deadLettered! };
  }

  /**
   * Lists a queue's dead letters (from `ns:q.XQ`), oldest first.
   * @throws ConnectionClosed / ConnectionFailed when Redis is lost or unreachable
   */
  async getDeadLetters(queueName: string): Promise<DeadLetter[]> {
    const key = `${this.namespace}:${canonicalQueueName(queueName)}.XQ`;
    const scored = await this.command(() => this.client.zrange(key, 0, -1, "WITHSCORES"));
    if (scored.length === 0) return [];
    const ids = scored.filter((_, index) => index % 2 === 0);
    const data = await this.command(() => this.client.hmgetBuffer(`${key}.msgs`, ...ids));
    const letters: DeadLetter[] = [];
    ids.forEach((id, index) => {
      const bytes = data[index];
      if (!bytes) return;
      let message: Message | undefined;
      try {
        message = Message.decode(bytes);
      } catch {
        message = undefined;
      }
      letters.push({ redisMessageId: id, deadLetteredAt: Number(scored[index * 2 + 1]), data: bytes, message });
    });
    return letters;
  }

  /** Closes the consumers (returning their prefetched messages) and the connections it opened. */
  override async close(): Promise<void> {
    if (this.closed) return;
    for (const consumer of [...this.consumers]) await consumer.close().catch(() => undefined);
    this.closed = true;
    this.stopHeartbeat();
    await this.wakeups.close();
    if (!this.ownsClient) return;
    // QUIT lets pending replies arrive; a client that is not connected just stops reconnecting.
    if (this.client.status === "ready") await this.client.quit().catch(() => this.client.disconnect());
    else this.client.disconnect();
  }
}
