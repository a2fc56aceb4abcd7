import { randomBytes } from "node:crypto";
import { addressFromUrl, describeWithServer } from "@dq/core/testing";
import { Redis } from "ioredis";

/** The Redis the tests use (loopback by default). */
export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * Defines `body` when Redis answers; otherwise skips it with a notice, or fails when `CI` is set.
 */
export function describeWithRedis(name: string, body: () => void): void {
  describeWithServer(name, addressFromUrl(redisUrl, 6379), body);
}

/** A fresh namespace for one test: `dqtest-<random>`. */
export function uniqueNamespace(): string {
  return `dqtest-${randomBytes(6).toString("hex")}`;
}

/** Deletes every key of the given namespaces (SCAN, bounded by the key count). */
export async function deleteNamespaces(namespaces: Iterable<string>): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    for (const namespace of namespaces) {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${namespace}:*`, "COUNT", 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== "0");
    }
  } finally {
    redis.disconnect();
  }
}

/** A plain client for assertions; the caller disconnects it. */
export function plainClient(): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: 1 });
}

export { waitFor } from "@dq/core/testing";
