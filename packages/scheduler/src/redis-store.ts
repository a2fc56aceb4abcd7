// Leadership and state on Redis: a lease (SET NX PX, renewed by its owner with a compare-and-
// pexpire script, released with a compare-and-delete), a fire guard per slot (SET NX PX), and one
// hash per schedule.
import { closeClient, failFastOptions } from "@dq/redis-connection";
import { Redis, type RedisOptions } from "ioredis";
import type { ScheduleRecord, SchedulerStore } from "./store.js";
import type { StoredDefinition } from "./spec.js";

const RENEW = `if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return redis.call("SET", KEYS[1], ARGV[1], "NX", "PX", ARGV[2]) and 1 or 0`;

const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0`;

/** Options of `RedisSchedulerStore`: a URL, a client, or ioredis options (e.g. `sentinels` + `name`). */
export interface RedisSchedulerStoreOptions extends Omit<RedisOptions, "keyPrefix"> {
  /** `redis://host:port/db` (default `redis://127.0.0.1:6379`). */
  url?: string;
  /** An ioredis client to use (not closed by the store). */
  client?: Redis;
  /** Key prefix: keys are `<prefix>:lease`, `<prefix>:fired:<name>:<slot>`, `<prefix>:schedule:<name>` (default `dq-scheduler`). */
  prefix?: string;
  /** How long a slot's fire guard is kept, in ms (default 1 hour). */
  guardTtlMs?: number;
}

/** The hash fields of a schedule's record. */
const NUMBERS = ["lastSlot", "lastRun", "nextRun"] as const;

/** Leadership and state on one Redis (see the README, "Leadership and state"). */
export class RedisSchedulerStore implements SchedulerStore {
  readonly prefix: string;
  private readonly client: Redis;
  private readonly owned: boolean;
  private readonly guardTtlMs: number;

  constructor(options: RedisSchedulerStoreOptions = {}) {
    this.prefix = options.prefix ?? "dq-scheduler";
    this.guardTtlMs = options.guardTtlMs ?? 3_600_000;
    this.owned = !options.client;
    const { url, client, prefix: _prefix, guardTtlMs: _guard, ...redisOptions } = options;
    const clientOptions = {
      ...failFastOptions({ lazyConnect: false, enableOfflineQueue: true }),
      ...redisOptions,
    };
    // With `sentinels`, ioredis asks them for the master: no URL needed.
    this.client =
      client ??
      (url || !redisOptions.sentinels?.length
        ? new Redis(url ?? "redis://127.0.0.1:6379", clientOptions)
        : new Redis(clientOptions));
    this.client.on("error", () => undefined);
    this.client.defineCommand("dqSchedulerRenew", { numberOfKeys: 1, lua: RENEW });
    this.client.defineCommand("dqSchedulerRelease", { numberOfKeys: 1, lua: RELEASE });
  }

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(":");
  }

  async lead(owner: string, ttlMs: number): Promise<boolean> {
    const renewed = await (
      this.client as unknown as {
        dqSchedulerRenew(key: string, owner: string, ttl: number): Promise<number>;
      }
    ).dqSchedulerRenew(this.key("lease"), owner, ttlMs);
    return renewed === 1;
  }

  async resign(owner: string): Promise<void> {
    await (
      this.client as unknown as {
        dqSchedulerRelease(key: string, owner: string): Promise<number>;
      }
    ).dqSchedulerRelease(this.key("lease"), owner);
  }

  /** The lease's holder, if any (for tests and tooling). */
  async leader(): Promise<string | undefined> {
    return (await this.client.get(this.key("lease"))) ?? undefined;
  }

  async claim(name: string, slot: number): Promise<boolean> {
    const set = await this.client.set(
      this.key("fired", name, String(slot)),
      "1",
      "PX",
      this.guardTtlMs,
      "NX",
    );
    return set === "OK";
  }

  async read(names: readonly string[]): Promise<Map<string, ScheduleRecord>> {
    const records = new Map<string, ScheduleRecord>();
    if (names.length === 0) return records;
    const pipeline = this.client.pipeline();
    for (const name of names) pipeline.hgetall(this.key("schedule", name));
    const replies = (await pipeline.exec()) ?? [];
    names.forEach((name, index) => {
      const [error, hash] = replies[index] ?? [];
      if (error) throw error;
      records.set(name, parseRecord((hash ?? {}) as Record<string, string>));
    });
    return records;
  }

  async write(name: string, fields: ScheduleRecord): Promise<void> {
    const hash: Record<string, string> = {};
    for (const key of NUMBERS) if (fields[key] !== undefined) hash[key] = String(fields[key]);
    if (fields.lastOutcome !== undefined) hash.lastOutcome = fields.lastOutcome;
    if (fields.paused !== undefined) hash.paused = fields.paused ? "1" : "0";
    if (fields.definition !== undefined) hash.definition = JSON.stringify(fields.definition);
    if (Object.keys(hash).length) await this.client.hset(this.key("schedule", name), hash);
  }

  async define(name: string, definition: StoredDefinition | undefined): Promise<void> {
    if (definition === undefined) await this.client.hdel(this.key("schedule", name), "definition");
    else await this.write(name, { definition });
  }

  async setPaused(name: string, paused: boolean): Promise<void> {
    await this.write(name, { paused });
  }

  /** Deletes every key of this prefix (for tests and for retiring a deployment). */
  async clear(): Promise<void> {
    let cursor = "0";
    do {
      const [next, keys] = await this.client.scan(
        cursor,
        "MATCH",
        `${this.prefix}:*`,
        "COUNT",
        500,
      );
      cursor = next;
      if (keys.length) await this.client.del(...keys);
    } while (cursor !== "0");
  }

  async close(): Promise<void> {
    if (this.owned) await closeClient(this.client);
  }
}

function parseRecord(hash: Record<string, string>): ScheduleRecord {
  const record: ScheduleRecord = {};
  for (const key of NUMBERS) if (hash[key] !== undefined) record[key] = Number(hash[key]);
  if (hash.lastOutcome !== undefined) record.lastOutcome = hash.lastOutcome;
  if (hash.paused !== undefined) record.paused = hash.paused === "1";
  if (hash.definition !== undefined) {
    try {
      record.definition = JSON.parse(hash.definition) as StoredDefinition;
    } catch {
      // A hand-edited definition that is not JSON is ignored rather than stopping the scheduler.
    }
  }
  return record;
}
