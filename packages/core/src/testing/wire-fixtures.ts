import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * Reads one of the recordings of what Python Dramatiq writes on the wire
 * (`fixtures/dramatiq-wire/<name>` at the repository root).
 */
export function loadWireFixture<T = Record<string, unknown>>(name: string): T {
  // Resolved from the working directory upwards so it works from sources (jest) and builds alike.
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "fixtures", "dramatiq-wire", name);
    if (existsSync(candidate)) return JSON.parse(readFileSync(candidate, "utf8")) as T;
    if (path.dirname(dir) === dir)
      throw new Error(`wire fixture ${name} not found above ${process.cwd()}`);
  }
}

/** A key of a Redis recording in `fixtures/dramatiq-wire/` (`redis-*.json`). */
export interface RecordedRedisKey {
  type: "zset" | "list" | "hash" | "string";
  value: unknown;
}

/** The Redis commands `restoreRedisRecording` needs (an ioredis client fits). */
export interface RedisWriter {
  rpush(key: string, ...values: string[]): Promise<unknown>;
  zadd(key: string, score: number, member: string): Promise<unknown>;
  hset(key: string, field: string, value: string): Promise<unknown>;
}

/**
 * Writes the keys Python Dramatiq recorded into Redis, renaming the recorded `dqfixtures`
 * namespace to `namespace`. `rewrite(key, data)` may change a hash value (a message body) on the
 * way, e.g. to bring a delayed message's eta near now; everything else is written byte for byte.
 */
export async function restoreRedisRecording(
  redis: RedisWriter,
  keys: Record<string, RecordedRedisKey>,
  namespace: string,
  rewrite: (key: string, data: string) => string = (_key, data) => data,
): Promise<void> {
  for (const [recordedKey, { type, value }] of Object.entries(keys)) {
    const key = recordedKey.replace(/^dqfixtures:/, `${namespace}:`);
    if (type === "list") await redis.rpush(key, ...(value as string[]));
    if (type === "zset")
      for (const [member, score] of value as [string, number][])
        await redis.zadd(key, score, member);
    if (type === "hash") {
      for (const [field, data] of Object.entries(value as Record<string, string>))
        await redis.hset(key, field, rewrite(key, data));
    }
  }
}

/** A message body with its `eta` option moved to `eta` (for recorded delayed messages). */
export function withEta(data: string, eta: number): string {
  return data.replace(/"eta":\d+/, `"eta":${eta}`);
}
