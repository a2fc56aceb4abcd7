import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, it } from "@jest/globals";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const MEMCACHED_SERVERS = process.env.MEMCACHED_SERVERS ?? "127.0.0.1:11211";

/** A key prefix unique to one test. */
export function uniqueKey(prefix = "dqrltest"): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
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

function hostPort(target: string, defaultPort: number): [string, number] {
  const url = new URL(target.includes("://") ? target : `tcp://${target.split(",")[0]}`);
  return [url.hostname || "127.0.0.1", Number(url.port || defaultPort)];
}

// jest cannot await before defining tests, so the reachability probe is a synchronous child process.
function reachable(host: string, port: number): boolean {
  const probe = `require("node:net").connect(${port}, ${JSON.stringify(host)}).on("connect", () => process.exit(0)).on("error", () => process.exit(1)).setTimeout(2000, () => process.exit(1))`;
  return spawnSync(process.execPath, ["-e", probe], { timeout: 5000 }).status === 0;
}

/**
 * `describe` for tests that need a server: when it is unreachable they are skipped locally (the
 * notice is in the suite's name) and fail under CI.
 */
export function describeWithServer(server: "Redis" | "Memcached", name: string, body: () => void): void {
  const target = server === "Redis" ? REDIS_URL : MEMCACHED_SERVERS;
  const [host, port] = hostPort(target, server === "Redis" ? 6379 : 11211);
  if (reachable(host, port)) return describe(name, body);
  if (process.env.CI) {
    return describe(name, () => {
      it(`needs ${server} at ${target}`, () => {
        throw new Error(`${server} is not reachable at ${target} (required under CI)`);
      });
    });
  }
  describe.skip(`${name} [skipped: ${server} not reachable at ${target}]`, body);
}
