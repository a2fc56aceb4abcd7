import { spawnSync } from "node:child_process";
import type * as JestGlobals from "@jest/globals";

/** A server address on the test machine. */
export interface ServerAddress {
  host: string;
  port: number;
}

const PROBE = `
const socket = require("node:net").connect(Number(process.argv[2]), process.argv[1]);
socket.setTimeout(1500, () => process.exit(1));
socket.on("connect", () => process.exit(0));
socket.on("error", () => process.exit(1));
`;

/**
 * Whether a TCP server answers at `address`. Synchronous (it runs a short child process), so
 * that a test file can decide at definition time whether to define or skip its tests.
 */
export function serverReachable(address: ServerAddress): boolean {
  const probe = spawnSync(process.execPath, ["-e", PROBE, address.host, String(address.port)], {
    timeout: 5000,
    stdio: "ignore",
  });
  return probe.status === 0;
}

/** `host:port` from a `redis://...` style URL, with defaults. */
export function addressFromUrl(url: string, defaultPort: number): ServerAddress {
  const parsed = new URL(url);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: Number(parsed.port || defaultPort),
  };
}

/** The first `host:port` of a comma-separated server list such as `MEMCACHED_SERVERS`. */
export function addressFromServers(servers: string, defaultPort: number): ServerAddress {
  const first = (servers.split(",")[0] ?? "").trim().replace(/^.*@/, "");
  const [host, port] = first.split(":");
  return { host: host || "127.0.0.1", port: Number(port || defaultPort) };
}

/**
 * `describe(label, body)` when the server answers. When it does not, the block is skipped with
 * the reason in its title locally, and fails with one test when `process.env.CI` is set.
 */
export function describeWithServer(label: string, address: ServerAddress, body: () => void): void {
  // Jest's injected globals, not an import of @jest/globals: that module throws outside jest, and
  // the other helpers here are used by scripts too (bench/).
  const { describe, it } = globalThis as unknown as typeof JestGlobals;
  if (serverReachable(address)) {
    describe(label, body);
  } else if (process.env.CI) {
    describe(label, () => {
      it(`needs a server at ${address.host}:${address.port}`, () => {
        throw new Error(
          `${label}: no server answers at ${address.host}:${address.port} (CI is set, so this fails instead of skipping)`,
        );
      });
    });
  } else {
    describe.skip(
      `${label} (skipped: no server at ${address.host}:${address.port}; start it with scripts/services.sh)`,
      body,
    );
  }
}
