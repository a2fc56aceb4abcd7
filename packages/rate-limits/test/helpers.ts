import {
  addressFromServers,
  addressFromUrl,
  describeWithServer as describeWithAddress,
  uniqueQueueName,
} from "@dq/core/testing";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const MEMCACHED_SERVERS = process.env.MEMCACHED_SERVERS ?? "127.0.0.1:11211";

/** A key prefix unique to one test. */
export function uniqueKey(prefix = "dqrltest"): string {
  return uniqueQueueName(prefix);
}

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public time: number) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

/**
 * `describe` for tests that need a server: when it is unreachable they are skipped locally (the
 * notice is in the suite's name) and fail under CI.
 */
export function describeWithServer(
  server: "Redis" | "Memcached",
  name: string,
  body: () => void,
): void {
  const address =
    server === "Redis"
      ? addressFromUrl(REDIS_URL, 6379)
      : addressFromServers(MEMCACHED_SERVERS, 11211);
  describeWithAddress(name, address, body);
}
