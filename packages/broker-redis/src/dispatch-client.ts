import { createHash } from "node:crypto";
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

  /** Puts fetched ids back on the tail of their queue (the script wakes idle consumers). */
  async requeueIds(queueName: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const unpack = await this.maxUnpackSize();
    for (let index = 0; index < ids.length; index += unpack) {
      await this.dispatch(queueName, "requeue", ids.slice(index, index + unpack));
    }
  }
}
