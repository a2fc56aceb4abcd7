import { maskUrl } from "@dq/core/adapter";
import type { Redis } from "ioredis";
import { RedisKeys, readPage, redisWorkers, stateOf } from "./redis-reads.js";
import {
  DELETE_DEAD_SCRIPT,
  DELETE_LISTED_SCRIPT,
  PURGE_SCRIPT,
  RETRY_SCRIPT,
} from "./redis-scripts.js";
import type {
  MessagePage,
  MessageState,
  QueueCounts,
  RatePoint,
  Source,
  StoredMessage,
  WorkerInfo,
} from "./source.js";

/** What the Redis source needs of a RedisBroker (structural: no dependency on the adapter). */
export interface RedisBrokerLike {
  readonly client: Redis;
  readonly namespace: string;
  readonly queues: ReadonlySet<string>;
  readonly heartbeatTimeout?: number;
  /** Its id in `__heartbeats__` (dq's RedisBroker has one). */
  readonly brokerId?: string;
}

/** Whether a broker is a RedisBroker (has an ioredis client and a namespace). */
export function isRedisBroker(broker: object): broker is RedisBrokerLike {
  const candidate = broker as Partial<RedisBrokerLike>;
  return (
    typeof candidate.namespace === "string" &&
    typeof candidate.client === "object" &&
    candidate.client !== null &&
    typeof candidate.client.lrange === "function"
  );
}

/** Keys read per SCAN call and calls per queue discovery: discovery reads at most 20 000 keys. */
const SCAN_COUNT = 1000;
const SCAN_CALLS = 20;
/** How long discovered queue names are reused (ms). */
const DISCOVERY_TTL = 30_000;
/** The hash where the `ProcessedCounter` middleware counts processed messages per minute. */
export const processedKey = (namespace: string): string =>
  `${namespace}:__dq_dashboard__.processed`;

/** The hash where ProcessedCounter publishes each worker process's description (field: broker id). */
export const workersKey = (namespace: string): string => new RedisKeys(namespace).described;

/** Escapes glob characters for SCAN MATCH. */
const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, "\\$&");

/**
 * Reads and changes Dramatiq's Redis keyspace: `<ns>:<q>` (list of ids) with `<ns>:<q>.msgs`,
 * `<ns>:<q>.DQ` (delayed), `<ns>:<q>.XQ` (dead letters: zset by time) with `.XQ.msgs`, the ack sets
 * `<ns>:__acks__.<broker>.<q>` and `<ns>:__heartbeats__`. No KEYS; every read is O(page).
 */
export class RedisSource implements Source {
  readonly kind = "redis" as const;
  readonly url: string;
  private readonly client: Redis;
  private readonly keys: RedisKeys;
  private discovered: { at: number; names: Promise<string[]> } | undefined;

  constructor(
    readonly id: string,
    private readonly broker: RedisBrokerLike,
  ) {
    this.client = broker.client;
    this.keys = new RedisKeys(broker.namespace);
    const { host, port, db, username, password } = broker.client.options;
    const auth = password ? `${username ?? ""}:${password}@` : "";
    this.url = maskUrl(`redis://${auth}${host ?? "127.0.0.1"}:${port ?? 6379}/${db ?? 0}`);
  }

  private get heartbeatTimeout(): number {
    return this.broker.heartbeatTimeout ?? 60_000;
  }

  async queues(): Promise<string[]> {
    const now = Date.now();
    if (!this.discovered || now - this.discovered.at > DISCOVERY_TTL) {
      const names = this.discover();
      this.discovered = { at: now, names };
      names.catch(() => (this.discovered = undefined));
    }
    const found = await this.discovered.names;
    const declared = [...this.broker.queues].filter((name) => !/\.(DQ|XQ)$/.test(name));
    return [...new Set([...declared, ...found])].sort();
  }

  /** A bounded SCAN for `<ns>:*.msgs` and `<ns>:*.XQ`: the queues that hold messages. */
  private async discover(): Promise<string[]> {
    const prefix = `${this.broker.namespace}:`;
    const names = new Set<string>();
    let cursor = "0";
    for (let call = 0; call < SCAN_CALLS; call++) {
      const [next, keys] = await this.client.scan(
        cursor,
        "MATCH",
        `${escapeGlob(prefix)}*`,
        "COUNT",
        SCAN_COUNT,
      );
      for (const key of keys) {
        const match = /^(.*?)(\.DQ)?(\.XQ)?\.msgs$|^(.*?)\.XQ$/.exec(key.slice(prefix.length));
        const name = match?.[1] ?? match?.[4];
        if (name && !name.startsWith("__")) names.add(name);
      }
      cursor = next;
      if (cursor === "0") break;
    }
    return [...names];
  }

  async hasQueue(queue: string): Promise<boolean> {
    if ((await this.queues()).includes(queue)) return true;
    const k = this.keys.of(queue);
    const found = await this.client.exists(k.list, k.msgs, k.delayMsgs, k.dead);
    return found > 0;
  }

  async counts(queues: readonly string[]): Promise<QueueCounts[]> {
    if (queues.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const queue of queues) {
      const k = this.keys.of(queue);
      pipeline.llen(k.list).hlen(k.msgs).hlen(k.delayMsgs).zcard(k.dead);
    }
    const replies = (await pipeline.exec()) ?? [];
    const numbers = replies.map(([error, value]) => {
      if (error) throw error;
      return Number(value);
    });
    return queues.map((_, index) => {
      const [ready, stored, delayed, dead] = numbers.slice(index * 4, index * 4 + 4) as [
        number,
        number,
        number,
        number,
      ];
      return { ready, inFlight: Math.max(0, stored - ready), delayed, dead };
    });
  }

  async rates(
    queues: readonly string[],
    minutes: number,
  ): Promise<{ processed: RatePoint[]; failed: RatePoint[] }> {
    const current = Math.floor(Date.now() / 60_000) * 60_000;
    const starts = Array.from({ length: minutes }, (_, i) => current - (minutes - 1 - i) * 60_000);
    const pipeline = this.client.pipeline();
    pipeline.hmget(processedKey(this.broker.namespace), ...starts.map(String));
    for (const queue of queues) {
      const dead = this.keys.of(queue).dead;
      for (const start of starts) pipeline.zcount(dead, start, start + 59_999);
    }
    const replies = (await pipeline.exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    const processedCounts = replies[0]![1] as (string | null)[];
    const failed = starts.map((t) => ({ t, n: 0 }));
    replies.slice(1).forEach(([, value], index) => {
      failed[index % minutes]!.n += Number(value);
    });
    return {
      processed: starts.map((t, i) => ({ t, n: Number(processedCounts[i] ?? 0) })),
      failed,
    };
  }

  page(
    queue: string,
    state: MessageState,
    order: "oldest" | "newest",
    page: number,
    limit: number,
  ): Promise<MessagePage> {
    return readPage(this.client, this.keys, queue, state, order, page * limit, limit);
  }

  async get(queue: string, id: string): Promise<StoredMessage | undefined> {
    return stateOf(this.client, this.keys, queue, id, this.heartbeatTimeout);
  }

  async scan(queue: string, max: number, each: (m: StoredMessage) => boolean): Promise<number> {
    let read = 0;
    const CHUNK = 1000;
    for (const state of ["dead", "ready", "delayed"] as const) {
      for (let offset = 0; read < max; offset += CHUNK) {
        const limit = Math.min(CHUNK, max - read);
        const { messages } = await readPage(
          this.client,
          this.keys,
          queue,
          state,
          "oldest",
          offset,
          limit,
        );
        for (const message of messages) {
          read++;
          if (!each(message)) return read;
        }
        if (messages.length < limit) break;
      }
    }
    return read;
  }

  workers(): Promise<WorkerInfo[]> {
    return redisWorkers(this.client, this.keys, this.id, this.heartbeatTimeout);
  }

  /** How many brokers beat within the heartbeat timeout. */
  async alive(): Promise<number> {
    return this.client.zcount(this.keys.heartbeats, Date.now() - this.heartbeatTimeout, "+inf");
  }

  async retry(queue: string, ids: readonly string[] | "all"): Promise<number> {
    const k = this.keys.of(queue);
    const move = (batch: readonly string[]) =>
      this.client.eval(
        RETRY_SCRIPT,
        4,
        k.dead,
        k.deadMsgs,
        k.list,
        k.msgs,
        this.keys.wakeup(queue),
        ...batch,
      ) as Promise<number>;
    if (ids !== "all") {
      let moved = 0;
      for (let i = 0; i < ids.length; i += 500) moved += await move(ids.slice(i, i + 500));
      return moved;
    }
    // Batches from the oldest; bounded by what was there when the call began.
    let remaining = await this.client.zcard(k.dead);
    let moved = 0;
    while (remaining > 0) {
      const batch = await this.client.zrange(k.dead, 0, Math.min(500, remaining) - 1);
      if (batch.length === 0) break;
      const count = await move(batch);
      moved += count;
      remaining -= batch.length;
      if (count === 0) break;
    }
    return moved;
  }

  async delete(queue: string, id: string, state: MessageState): Promise<boolean> {
    const k = this.keys.of(queue);
    const reply =
      state === "dead"
        ? await this.client.eval(DELETE_DEAD_SCRIPT, 2, k.dead, k.deadMsgs, id)
        : state === "delayed"
          ? await this.client.eval(DELETE_LISTED_SCRIPT, 2, k.delayList, k.delayMsgs, id)
          : await this.client.eval(DELETE_LISTED_SCRIPT, 2, k.list, k.msgs, id);
    return Number(reply) > 0;
  }

  async purge(queue: string): Promise<number> {
    const k = this.keys.of(queue);
    const keys = [k.list, k.msgs, k.delayList, k.delayMsgs, k.dead, k.deadMsgs];
    return Number(await this.client.eval(PURGE_SCRIPT, keys.length, ...keys));
  }

  async close(): Promise<void> {}
}
