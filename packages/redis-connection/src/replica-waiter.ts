import { ConnectionClosed } from "@dq/core";
import type { Redis } from "ioredis";
import { z } from "zod";

/** How many replicas must have a write before it counts as done, and how long to wait for them. */
export interface DurableWriteOptions {
  /** Replicas that must acknowledge the write (Redis `WAIT numreplicas`; default 1). */
  replicas?: number;
  /** How long to wait for them, in ms (default 1000). */
  timeout?: number;
}

/** A write that did not reach enough replicas in time: it may be on the master only, and lost in a failover. */
export class NotReplicated extends ConnectionClosed {}

/**
 * Redis replicates asynchronously: a write the master acknowledged can be lost when a replica is
 * promoted before it arrived. A ReplicaWaiter follows writes with `WAIT replicas timeout` on the
 * same connection; the writes whose replies arrive in one tick share one WAIT (it covers every
 * earlier write of the connection). A write made on a connection that has since been replaced (a
 * reconnect, a failover) cannot be vouched for and rejects with NotReplicated, like one that
 * reached too few replicas: writing it again may duplicate, never lose.
 */
export class ReplicaWaiter {
  readonly replicas: number;
  readonly timeout: number;
  private pending: Promise<number> | undefined;
  private connections = 0;

  /**
   * @param client - the connection the writes go through
   * @param where - the server, for messages (no password)
   * @param run - runs the WAIT command (an adapter's error translation)
   */
  constructor(
    private readonly client: Redis,
    private readonly where: string,
    options: DurableWriteOptions,
    private readonly run: <T>(command: () => Promise<T>) => Promise<T> = (command) => command(),
  ) {
    this.replicas = options.replicas ?? 1;
    this.timeout = options.timeout ?? 1000;
    client.on("close", () => this.connections++);
  }

  /** Which connection of the client is current: take it before a write, pass it to `afterWrite`. */
  get generation(): number {
    return this.connections;
  }

  /**
   * Waits until `replicas` replicas have every write made so far on the connection.
   * @param generation - `generation` when the write was made
   * @throws NotReplicated when too few replicas acknowledged within `timeout`, or the connection changed
   */
  async afterWrite(generation: number): Promise<void> {
    this.pending ??= new Promise<void>((resolve) => process.nextTick(resolve)).then(() => {
      this.pending = undefined;
      return this.run(
        () => this.client.call("WAIT", this.replicas, this.timeout) as Promise<number>,
      );
    });
    const acknowledged = await this.pending;
    if (this.connections !== generation)
      throw new NotReplicated(
        `the connection to ${this.where} was replaced before the write was replicated: it may be lost; write it again`,
      );
    if (acknowledged < this.replicas)
      throw new NotReplicated(
        `the write reached ${acknowledged} of ${this.replicas} replicas of ${this.where} within ${this.timeout} ms: it may be lost in a failover; write it again`,
      );
  }
}

/** `true` → one replica within 1000 ms; an object as given; `false`/undefined → off. */
export function durableWriteOptions(
  value: boolean | DurableWriteOptions | undefined,
): DurableWriteOptions | undefined {
  return value === true ? {} : value || undefined;
}

/** The zod schema of a durable-write option (`durableEnqueue`, `durableStores`): a boolean or `{ replicas, timeout }`. */
export const durableWriteSchema = z
  .union([
    z.boolean(),
    z
      .object({
        replicas: z.number().int().min(1).optional(),
        timeout: z.number().int().min(0).optional(),
      })
      .strict(),
  ])
  .optional();

/** What a valid durable-write option is, for InvalidOptionError messages. */
export const DURABLE_WRITE_EXPECTED =
  "true, false or { replicas: an integer >= 1, timeout: an integer >= 0 }";
