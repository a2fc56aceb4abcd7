import { Command, type Redis } from "ioredis";
import { PAGE_SCRIPT } from "./redis-scripts.js";
import type { MessagePage, MessageState, StoredMessage, WorkerInfo } from "./source.js";

/** The keys of one queue. */
export interface QueueKeys {
  list: string;
  msgs: string;
  delayList: string;
  delayMsgs: string;
  dead: string;
  deadMsgs: string;
}

/** Dramatiq's key layout under a namespace. */
export class RedisKeys {
  readonly heartbeats: string;
  /** Worker descriptions published by the dashboard's ProcessedCounter (dq's own key). */
  readonly described: string;
  constructor(readonly namespace: string) {
    this.heartbeats = `${namespace}:__heartbeats__`;
    this.described = `${namespace}:__dq_dashboard__.workers`;
  }
  of(queue: string): QueueKeys {
    const list = `${this.namespace}:${queue}`;
    return {
      list,
      msgs: `${list}.msgs`,
      delayList: `${list}.DQ`,
      delayMsgs: `${list}.DQ.msgs`,
      dead: `${list}.XQ`,
      deadMsgs: `${list}.XQ.msgs`,
    };
  }
  acks(brokerId: string, queue: string): string {
    return `${this.namespace}:__acks__.${brokerId}.${queue}`;
  }
  consumed(brokerId: string): string {
    return `${this.namespace}:__consumed__.${brokerId}`;
  }
  wakeup(queue: string): string {
    return `${this.namespace}:__wakeup__.${queue}`;
  }
}

/** At most this many heartbeat entries are read (workers page, in-flight checks). */
const MAX_BROKERS = 200;

/** The reply of PAGE_SCRIPT, bulk strings as Buffers. */
type PageReply = [number, Buffer[], (Buffer | null)[], Buffer[]];

/** One page of a list or zset with the page's bytes, in one round trip (see PAGE_SCRIPT). */
async function pageOf(
  client: Redis,
  kind: "list" | "zset",
  key: string,
  hash: string,
  order: "oldest" | "newest",
  offset: number,
  limit: number,
): Promise<{ total: number; entries: { id: string; data: Buffer | null; score?: number }[] }> {
  // sendCommand: bulk replies as Buffers, and past auto-pipelining (which mangles `callBuffer`).
  const command = new Command("eval", [PAGE_SCRIPT, 2, key, hash, kind, order, offset, limit], {
    replyEncoding: null,
  });
  const [total, ids, data, scores] = (await client.sendCommand(command)) as PageReply;
  return {
    total: Number(total),
    entries: ids.map((id, i) => ({
      id: id.toString("utf8"),
      data: data[i] ?? null,
      score: scores[i] === undefined ? undefined : Number(scores[i].toString()),
    })),
  };
}

/** Brokers whose heartbeat is recent, newest first. */
async function aliveBrokers(client: Redis, keys: RedisKeys, timeout: number): Promise<string[]> {
  return client.zrevrangebyscore(
    keys.heartbeats,
    "+inf",
    Date.now() - timeout,
    "LIMIT",
    0,
    MAX_BROKERS,
  );
}

/**
 * One page of a queue's messages: O(page) (LRANGE / ZRANGE with offsets, HMGET of the page's ids).
 * Delayed messages already fetched by a worker (held until their eta) follow the waiting ones.
 */
export async function readPage(
  client: Redis,
  keys: RedisKeys,
  queue: string,
  state: MessageState,
  order: "oldest" | "newest",
  offset: number,
  limit: number,
): Promise<MessagePage> {
  const k = keys.of(queue);
  if (state === "dead") {
    const { total, entries } = await pageOf(
      client,
      "zset",
      k.dead,
      k.deadMsgs,
      order,
      offset,
      limit,
    );
    const messages: StoredMessage[] = [];
    for (const { id, data, score } of entries) {
      if (data) messages.push({ id, state, data, failedAt: score });
    }
    return { total, messages };
  }
  const list = state === "ready" ? k.list : k.delayList;
  const hash = state === "ready" ? k.msgs : k.delayMsgs;
  const { total: waiting, entries } = await pageOf(
    client,
    "list",
    list,
    hash,
    order,
    offset,
    limit,
  );
  const messages: StoredMessage[] = [];
  for (const { id, data } of entries) if (data) messages.push({ id, state, data });
  if (state === "ready") return { total: waiting, messages };
  // Delayed messages already fetched by a worker (held until their eta, in the ack sets of the
  // delay queue: bounded by the workers' prefetch) follow the waiting ones.
  const stored = await client.hlen(hash);
  if (entries.length < limit && stored > waiting) {
    const brokers = await aliveBrokers(client, keys, Number.MAX_SAFE_INTEGER / 2);
    const pipeline = client.pipeline();
    for (const broker of brokers) pipeline.smembers(keys.acks(broker, `${queue}.DQ`));
    const held = ((await pipeline.exec()) ?? []).flatMap(([, v]) => (v as string[] | null) ?? []);
    held.sort();
    const from = Math.max(0, offset - waiting);
    const ids = held.slice(from, from + limit - entries.length);
    const data = ids.length ? await client.hmgetBuffer(hash, ...ids) : [];
    ids.forEach((id, i) => {
      const bytes = data[i];
      if (bytes) messages.push({ id, state, data: bytes });
    });
  }
  return { total: stored, messages };
}

/** Finds a message by its stored id: ready (or in flight), delayed or dead. */
export async function stateOf(
  client: Redis,
  keys: RedisKeys,
  queue: string,
  id: string,
  heartbeatTimeout: number,
): Promise<StoredMessage | undefined> {
  const k = keys.of(queue);
  const replies = (await client
    .pipeline()
    .hgetBuffer(k.msgs, id)
    .hgetBuffer(k.delayMsgs, id)
    .hgetBuffer(k.deadMsgs, id)
    .zscore(k.dead, id)
    .exec()) as [Error | null, unknown][];
  const [ready, delayed, dead, score] = replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
  if (Buffer.isBuffer(dead)) {
    return { id, state: "dead", data: dead, failedAt: score ? Number(score) : undefined };
  }
  if (Buffer.isBuffer(delayed)) return { id, state: "delayed", data: delayed };
  if (!Buffer.isBuffer(ready)) return undefined;
  const brokers = await aliveBrokers(client, keys, heartbeatTimeout);
  if (brokers.length) {
    const pipeline = client.pipeline();
    for (const broker of brokers) pipeline.sismember(keys.acks(broker, queue), id);
    const held = ((await pipeline.exec()) ?? []).some(([, v]) => Number(v) === 1);
    if (held) return { id, state: "inFlight", data: ready };
  }
  return { id, state: "ready", data: ready };
}

/** A worker description ProcessedCounter wrote (untrusted: any field may be missing or wrong). */
function parseDescription(
  text: string | null | undefined,
): Pick<WorkerInfo, "host" | "pid" | "concurrency" | "startedAt" | "inProgress"> | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    const number = (field: unknown) =>
      typeof field === "number" && Number.isFinite(field) ? field : undefined;
    return {
      host: typeof value.host === "string" ? value.host.slice(0, 255) : undefined,
      pid: number(value.pid),
      concurrency: number(value.concurrency),
      startedAt: number(value.startedAt),
      inProgress: number(value.inProgress),
    };
  } catch {
    return undefined;
  }
}

/** Calls of a bounded SCAN over the ack sets (to find the queues of Python workers). */
const ACK_SCAN_CALLS = 10;

/**
 * The brokers of `__heartbeats__` (most recent first, at most 200): dq brokers name their queues
 * in `__consumed__.<id>`; Python workers write only the heartbeat and their ack sets, found by a
 * bounded SCAN. In progress: the size of their ack sets.
 */
export async function redisWorkers(
  client: Redis,
  keys: RedisKeys,
  source: string,
  heartbeatTimeout: number,
): Promise<WorkerInfo[]> {
  const scored = await client.zrevrange(keys.heartbeats, 0, MAX_BROKERS - 1, "WITHSCORES");
  const ids = scored.filter((_, i) => i % 2 === 0);
  if (ids.length === 0) return [];
  const pipeline = client.pipeline();
  for (const id of ids) pipeline.smembers(keys.consumed(id));
  const replies = (await pipeline.exec()) ?? [];
  const queuesOf = new Map<string, Set<string>>();
  ids.forEach((id, i) => {
    const consumed = (replies[i]?.[1] as string[] | null) ?? [];
    queuesOf.set(id, new Set(consumed));
  });
  // Python brokers: find their ack sets (bounded).
  const prefix = `${keys.namespace}:__acks__.`;
  let cursor = "0";
  for (let call = 0; call < ACK_SCAN_CALLS; call++) {
    const [next, found] = await client.scan(
      cursor,
      "MATCH",
      `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`,
      "COUNT",
      1000,
    );
    for (const key of found) {
      const rest = key.slice(prefix.length);
      const dot = rest.indexOf(".");
      if (dot > 0) queuesOf.get(rest.slice(0, dot))?.add(rest.slice(dot + 1));
    }
    cursor = next;
    if (cursor === "0") break;
  }
  const counting = client.pipeline();
  const pairs: [string, string][] = [];
  for (const id of ids) {
    for (const queue of queuesOf.get(id)!) {
      pairs.push([id, queue]);
      counting.scard(keys.acks(id, queue));
    }
  }
  const counts = pairs.length ? ((await counting.exec()) ?? []) : [];
  const inProgress = new Map<string, number>();
  pairs.forEach(([id], i) => {
    inProgress.set(id, (inProgress.get(id) ?? 0) + Number(counts[i]?.[1] ?? 0));
  });
  // Host, pid, concurrency, start and running count: only what dq workers with the dashboard's
  // ProcessedCounter publish (Dramatiq's keyspace has none of it); otherwise a broker is its id.
  const descriptions = await client.hmget(keys.described, ...ids);
  const now = Date.now();
  return ids.map((id, i) => {
    const lastSeen = Number(scored[i * 2 + 1]);
    const described = parseDescription(descriptions[i]);
    return {
      broker: source,
      id,
      ...described,
      queues: [...queuesOf.get(id)!].sort(),
      inProgress: described?.inProgress ?? inProgress.get(id) ?? 0,
      lastSeen,
      alive: now - lastSeen <= heartbeatTimeout,
    };
  });
}
