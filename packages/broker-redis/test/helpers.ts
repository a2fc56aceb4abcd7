import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, it } from "@jest/globals";
import { Redis } from "ioredis";

/** The Redis the tests use (loopback by default). */
export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

function probe(): string | undefined {
  // Synchronous so that test files can decide at load time whether to define their tests.
  const script = `
    const url = new URL(process.argv[1]);
    const socket = require("node:net").connect(Number(url.port || 6379), url.hostname);
    socket.setTimeout(2000, () => { process.stdout.write("timeout"); process.exit(1); });
    socket.on("connect", () => socket.write("PING\\r\\n"));
    socket.on("data", (d) => { process.stdout.write(String(d)); process.exit(String(d).startsWith("+PONG") || String(d).startsWith("-NOAUTH") ? 0 : 1); });
    socket.on("error", (e) => { process.stdout.write(e.message); process.exit(1); });`;
  const result = spawnSync(process.execPath, ["-e", script, redisUrl], { timeout: 5000, encoding: "utf8" });
  return result.status === 0 ? undefined : `Redis at ${redisUrl} is unreachable (${(result.stdout || String(result.error ?? "no reply")).trim()})`;
}

const unreachable = probe();

/**
 * Defines `body` when Redis answers. Otherwise the tests are skipped with a notice (a skipped test
 * named after the reason), or fail when `CI` is set.
 */
export function describeWithRedis(name: string, body: () => void): void {
  if (!unreachable) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      it("needs Redis", () => {
        throw new Error(`${unreachable}; CI requires it`);
      });
    });
  } else {
    describe(name, () => {
      it.skip(`skipped: ${unreachable}`, () => undefined);
    });
  }
}

/** Whether Redis answered the probe. */
export const redisReachable = unreachable === undefined;

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

/** Polls `condition` every 10 ms until it holds; throws after `timeout` ms naming `what`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
