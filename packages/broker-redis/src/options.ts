import type { BrokerOptions } from "@dq/core";
import {
  checkOptions,
  DURABLE_WRITE_EXPECTED,
  durableWriteOptions,
  durableWriteSchema,
  type DurableWriteOptions,
} from "@dq/redis-connection";
import type { ClusterNode, ClusterOptions, Redis, RedisOptions } from "ioredis";
import { z } from "zod";

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
  /**
   * Resolve `send()` only once this many replicas have the message (`WAIT`): `true` for one replica
   * within 1000 ms, or `{ replicas, timeout }`. Off by default: Redis replicates asynchronously,
   * so without it a failover can lose messages the master acknowledged just before it.
   * @throws NotReplicated (a ConnectionClosed) from `send()` when too few replicas acknowledged in time
   */
  durableEnqueue?: boolean | DurableWriteOptions;
  /**
   * Redis Cluster: the startup nodes (`[{ host, port }, ...]` or `"host:port"`). The namespace must
   * then carry a hash tag (default `{dramatiq}`), so that every key of the queues lives in one slot
   * and the dispatch script (and Python Dramatiq, given the same namespace) works unchanged.
   */
  cluster?: ClusterNode[];
  /** ioredis `ClusterOptions` for `cluster` (its `redisOptions` get the other ioredis options). */
  clusterOptions?: Omit<ClusterOptions, "redisOptions">;
}

/** Default `commandTimeout` in ms (the policy shared by dq's Redis adapters). */
export { DEFAULT_COMMAND_TIMEOUT } from "@dq/redis-connection";

/** The options dq reads itself: the rest goes to ioredis. */
export const DQ_KEYS = [
  "url",
  "client",
  "namespace",
  "heartbeatTimeout",
  "deadMessageTtl",
  "maintenanceChance",
  "middleware",
  "logger",
  "clock",
  "durableEnqueue",
  "cluster",
  "clusterOptions",
] as const;

const nonNegative = z.number().min(0).optional();
const NON_NEGATIVE = "a number >= 0";

/** The numeric options of a RedisBroker, in the order they are checked. */
const brokerOptionsSchema = z.object({
  heartbeatTimeout: nonNegative,
  deadMessageTtl: nonNegative,
  maintenanceChance: nonNegative,
  commandTimeout: nonNegative,
  durableEnqueue: durableWriteSchema,
});

/** A namespace whose keys all share one Redis Cluster slot: it holds a non-empty `{hash tag}`. */
export function hasHashTag(namespace: string): boolean {
  const open = namespace.indexOf("{");
  const close = open < 0 ? -1 : namespace.indexOf("}", open + 1);
  return close > open + 1;
}

/** The checked numeric options, defaults applied (`commandTimeout` stays as given). */
export interface BrokerSettings {
  heartbeatTimeout: number;
  deadMessageTtl: number;
  maintenanceChance: number;
  /** The `durableEnqueue` option as an object; undefined when off. */
  durableEnqueue: DurableWriteOptions | undefined;
}

/**
 * Checks a RedisBroker's numeric options against its zod schema.
 * @throws InvalidOptionError naming the first bad option and its value: `invalid heartbeatTimeout -1: expected a number >= 0`
 */
export function parseBrokerOptions(options: RedisBrokerOptions): BrokerSettings {
  const { heartbeatTimeout, deadMessageTtl, maintenanceChance, durableEnqueue } = checkOptions(
    brokerOptionsSchema,
    options as Record<string, unknown>,
    {
      heartbeatTimeout: NON_NEGATIVE,
      deadMessageTtl: NON_NEGATIVE,
      maintenanceChance: NON_NEGATIVE,
      commandTimeout: NON_NEGATIVE,
      durableEnqueue: DURABLE_WRITE_EXPECTED,
    },
  );
  return {
    heartbeatTimeout: heartbeatTimeout ?? 60_000,
    deadMessageTtl: deadMessageTtl ?? 604_800_000,
    maintenanceChance: maintenanceChance ?? 1000,
    durableEnqueue: durableWriteOptions(durableEnqueue),
  };
}
