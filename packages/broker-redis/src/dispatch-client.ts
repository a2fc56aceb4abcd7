// Every hot-path write to the dispatch script: the calls of one tick in one socket write, the
// encoded enqueues (`enqueue` / chunked `enqueue_many`) and the per-tick batches of acks.
import { createHash } from "node:crypto";
import {
  getEncoder,
  InvalidOptionError,
  JSONEncoder,
  messageJson,
  type Message,
  type MessageProxy,
} from "@dq/core";
import { envInteger, type Clock } from "@dq/core/adapter";
import { Command } from "ioredis";
import type { RedisConnection } from "./connection.js";
import { DISPATCH_SCRIPT } from "./dispatch-script.js";
import { MAX_STACK_SCRIPT } from "./max-stack-script.js";

/** One argument of a dispatch call after the fixed ones. */
export type DispatchArgument = string | number | Buffer;

/** Reply bulk strings as strings (`"utf8"`) or as Buffers (`null`: message bytes stay bytes). */
export type ReplyEncoding = "utf8" | null;

/** The fixed arguments of every dispatch call, from the broker. */
export interface DispatchSettings {
  readonly namespace: string;
  readonly brokerId: string;
  readonly heartbeatTimeout: number;
  readonly deadMessageTtl: number;
  readonly maintenanceChance: number;
  readonly clock: Clock;
}

const MAINTENANCE_SCALE = 1_000_000;
const DISPATCH_SHA = createHash("sha1").update(DISPATCH_SCRIPT).digest("hex");
const isNoScript = (error: unknown) =>
  error instanceof Error && error.message.startsWith("NOSCRIPT");

let maxUnpackSize: Promise<number> | undefined;
/** Its value once probed: dispatch calls then go out without waiting for a promise. */
let knownUnpackSize: number | undefined;

/**
 * Calls the Lua dispatch script: EVALSHA with an EVAL fallback that caches it again, the unpack
 * size probe, the maintenance roll, and the write of the calls of one tick in one batch.
 */
export class DispatchClient {
  /** Dispatch calls issued since the last flush, in call order. */
  private outgoing: Command[] = [];

  constructor(
    private readonly connection: RedisConnection,
    private readonly settings: DispatchSettings,
  ) {}

  /**
   * Half of the largest `unpack` this Redis accepts, probed once per process (env
   * `dramatiq_lua_max_stack` overrides the probe), as Dramatiq does.
   */
  maxUnpackSize(): Promise<number> {
    if (!maxUnpackSize) {
      const override = envInteger("dramatiq_lua_max_stack", 0);
      maxUnpackSize = (
        override
          ? Promise.resolve(Math.max(1, Math.floor(override / 2)))
          : this.connection
              .command(() => this.connection.client.eval(MAX_STACK_SCRIPT, 0))
              .then((size) => Math.max(1, Math.floor(Number(size) / 2)))
      ).then((size) => (knownUnpackSize = size));
      maxUnpackSize.catch(() => (maxUnpackSize = undefined));
    }
    return maxUnpackSize;
  }

  /** 1 with probability maintenanceChance / 1 000 000 (Dramatiq's `do_maintenance`), else 0. */
  rollMaintenance(): 0 | 1 {
    return Math.floor(Math.random() * MAINTENANCE_SCALE) < this.settings.maintenanceChance ? 1 : 0;
  }

  /** The full argument list of one dispatch call (the argument order Dramatiq uses). */
  arguments(
    queueName: string,
    command: string,
    maintenance: 0 | 1,
    unpack: number,
    args: readonly DispatchArgument[],
  ): DispatchArgument[] {
    const { namespace, clock, brokerId, heartbeatTimeout, deadMessageTtl } = this.settings;
    return [
      namespace,
      command,
      clock.now(),
      queueName,
      brokerId,
      heartbeatTimeout,
      deadMessageTtl,
      maintenance,
      unpack,
      ...args,
    ];
  }

  /**
   * Runs one command of the dispatch script (`ack` and `nack` never run maintenance).
   * @throws ConnectionClosed / ConnectionFailed when Redis is lost or unreachable
   */
  dispatch(
    queueName: string,
    command: string,
    args: readonly DispatchArgument[] = [],
    { maintenance = true } = {},
  ): Promise<unknown> {
    return this.run(queueName, command, args, maintenance, "utf8");
  }

  /** Like `dispatch`, with bulk replies as Buffers (message bytes stay bytes). */
  dispatchBuffers(
    queueName: string,
    command: string,
    args: readonly DispatchArgument[] = [],
  ): Promise<unknown> {
    return this.run(queueName, command, args, true, null);
  }

  /**
   * Queues one dispatch call for this tick's write. Once the unpack size is known this takes no
   * promise but the call's own and no tick: it is on the path of every enqueue and every ack,
   * where each await costs latency (measured: ~5 µs of a round trip on an idle worker).
   */
  private run(
    queueName: string,
    command: string,
    args: readonly DispatchArgument[],
    maintenance: boolean,
    replyEncoding: ReplyEncoding,
  ): Promise<unknown> {
    const connection = this.connection;
    if (connection.closed) return Promise.reject(connection.closedError());
    if (!connection.isReady)
      return connection
        .firstReady()
        .then(() => this.run(queueName, command, args, maintenance, replyEncoding));
    const unpack = knownUnpackSize;
    if (unpack === undefined)
      return this.maxUnpackSize().then(() =>
        this.run(queueName, command, args, maintenance, replyEncoding),
      );
    return this.send(
      this.arguments(queueName, command, maintenance ? this.rollMaintenance() : 0, unpack, args),
      replyEncoding,
    );
  }

  /**
   * Runs the dispatch script by EVALSHA (EVAL when Redis does not have it, which caches it again).
   * Calls issued in the same tick are written together on `process.nextTick`, in call order: one
   * socket write per batch, without ioredis auto-pipelining's wait for the next loop turn (about
   * 35 µs of a round trip's latency) or its pipeline and script wrappers per call.
   * @param writeNow - written at once, after the calls waiting for the tick (call order is kept)
   */
  send(full: DispatchArgument[], replyEncoding: ReplyEncoding, writeNow = false): Promise<unknown> {
    const evalsha = new Command("evalsha", [DISPATCH_SHA, 1, ...full], { replyEncoding });
    if (writeNow) {
      this.outgoing.push(evalsha);
      this.flush();
    } else if (this.outgoing.push(evalsha) === 1) {
      process.nextTick(this.flush);
    }
    return evalsha.promise.then(undefined, (error: unknown) => {
      if (!isNoScript(error)) throw this.connection.translate(error);
      const evaluate = new Command("eval", [DISPATCH_SCRIPT, 1, ...full], { replyEncoding });
      this.connection.client.sendCommand(evaluate);
      return evaluate.promise.then(undefined, (evalError: unknown) => {
        throw this.connection.translate(evalError);
      });
    });
  }

  private readonly flush = (): void => {
    const commands = this.outgoing;
    if (commands.length === 0) return;
    this.outgoing = [];
    const client = this.connection.client;
    const stream = client.status === "ready" ? client.stream : undefined;
    stream?.cork();
    try {
      for (const command of commands) client.sendCommand(command);
    } finally {
      stream?.uncork();
    }
  };
}

/** The acks issued before the next `process.nextTick` callback, sent together (see `RedisConsumer.ack`). */
export interface AckBatch {
  ids: string[];
  proxies: MessageProxy[];
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Collects the acks of one tick: the first `add` of a tick schedules `flush` on
 * `process.nextTick` (not setImmediate: the call joins the broker's write of the dispatch calls
 * of the same tick instead of waiting a loop turn).
 */
export class AckBatcher {
  private pending: AckBatch | undefined;

  constructor(private readonly flush: (batch: AckBatch) => void) {}

  /** Adds one ack; @returns the batch's promise, shared by its acks (no promise per message). */
  add(id: string, proxy: MessageProxy): Promise<void> {
    let batch = this.pending;
    if (!batch) {
      batch = this.pending = newBatch();
      process.nextTick(this.take);
    }
    batch.ids.push(id);
    batch.proxies.push(proxy);
    return batch.done;
  }

  private readonly take = (): void => {
    const batch = this.pending;
    if (!batch) return;
    this.pending = undefined;
    this.flush(batch);
  };
}

function newBatch(): AckBatch {
  const batch = { ids: [] as string[], proxies: [] as MessageProxy[] } as AckBatch;
  batch.done = new Promise<void>((resolve, reject) => {
    batch.resolve = resolve;
    batch.reject = reject;
  });
  return batch;
}

/** Messages per `enqueue_many` call: keeps each script call short (Redis runs it atomically). */
const ENQUEUE_BATCH = 500;

/**
 * A message's bytes for the dispatch script. The default encoder's output is pure ASCII
 * (messageJson), so the string is the exact bytes; passed as a string, ioredis writes it without
 * an intermediate Buffer and a second copy.
 * @throws InvalidOptionError when the message has no `redisMessageId`
 */
function encodeForDispatch(message: Message): DispatchArgument {
  if (typeof message.options.redisMessageId !== "string")
    throw new InvalidOptionError(`message ${message.messageId} has no redisMessageId`);
  return getEncoder().constructor === JSONEncoder
    ? messageJson(message.asDict())
    : message.encode();
}

/**
 * Enqueues the messages: one `enqueue` call for a single message of a queue, else
 * `enqueue_many` calls of up to ENQUEUE_BATCH messages (the effects of one `enqueue` per
 * message, in order). The script publishes the wake-ups. Not atomic: when a message fails to
 * encode, the chunks before it are already enqueued (as with one `enqueue` per message).
 * @throws ConnectionClosed / ConnectionFailed when Redis is lost or unreachable
 */
export function publishMessages(
  dispatcher: DispatchClient,
  messages: readonly Message[],
): Promise<void> {
  try {
    if (messages.length === 1) {
      // One send: no async function and no await on its way to the write.
      const message = messages[0]!;
      const data = encodeForDispatch(message);
      return dispatcher.dispatch(message.queueName, "enqueue", [
        message.options.redisMessageId!,
        data,
      ]) as Promise<void>;
    }
  } catch (error) {
    return Promise.reject(error);
  }
  return publishMany(dispatcher, messages);
}

async function publishMany(
  dispatcher: DispatchClient,
  messages: readonly Message[],
): Promise<void> {
  if (messages.length === 0) return;
  const unpack = await dispatcher.maxUnpackSize();
  const calls: Promise<unknown>[] = [];
  const send = (queueName: string, chunk: DispatchArgument[]) => {
    const count = chunk.length / 2;
    // Maintenance as likely as with one call per message.
    let maintenance: 0 | 1 = 0;
    for (let roll = 0; roll < count && !maintenance; roll++)
      maintenance = dispatcher.rollMaintenance();
    const command = count === 1 ? "enqueue" : "enqueue_many";
    calls.push(
      dispatcher.send(
        dispatcher.arguments(queueName, command, maintenance, unpack, chunk),
        "utf8",
        true,
      ),
    );
  };
  // Each full chunk is written as soon as it is encoded, so Redis runs it while the next one is
  // encoded (the two took turns before: ~40 % of a bulk enqueue's time).
  const chunks = new Map<string, DispatchArgument[]>();
  let failed = false;
  let failure: unknown;
  try {
    for (const message of messages) {
      const data = encodeForDispatch(message);
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
  // send() already translated its failures into dq's errors.
  for (const result of results) if (result.status === "rejected") throw result.reason;
}
