import { Redis } from "ioredis";

/** A short-lived ioredis client that fails fast instead of retrying forever. */
export function redisClient(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    retryStrategy: () => null,
    lazyConnect: true,
  });
}

/** Deletes every key under `prefix:` (SCAN + UNLINK; ends when the cursor comes back to 0). */
export async function deletePrefix(url: string, prefix: string): Promise<number> {
  const redis = redisClient(url);
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) deleted += await redis.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** The Redis server version, or undefined when Redis does not answer. */
export async function redisVersion(url: string): Promise<string | undefined> {
  const redis = redisClient(url);
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    const info = await redis.info("server");
    return /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? "unknown";
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}
