import { spawn, type ChildProcess } from "node:child_process";
import type * as JestGlobals from "@jest/globals";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { freePort } from "./net.js";
import { PrivateRedis } from "./private-redis.js";

/** Sends one inline command on a fresh socket and resolves with the raw reply text. */
async function rawCommand(port: number, command: string, timeoutMs = 2000): Promise<string> {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let reply = "";
    const done = () => {
      socket.destroy();
      resolve(reply);
    };
    socket.setTimeout(timeoutMs, done);
    socket.once("error", done);
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("latin1");
      if (reply.endsWith("\r\n")) setTimeout(done, 20);
    });
    socket.write(`${command}\r\n`);
  });
}

/**
 * A Redis master, a replica and three sentinels of the test's own (never the shared server), on
 * free ports, for tests that fail a master over. Stopped by PID in `destroy()`.
 */
export class PrivateSentinelSet {
  readonly name = "dqmaster";
  private readonly sentinelProcesses: ChildProcess[] = [];

  private constructor(
    readonly master: PrivateRedis,
    readonly replica: PrivateRedis,
    readonly sentinelPorts: number[],
  ) {}

  /** Starts the set and waits until every sentinel knows the master and its replica. */
  static async start(extraArgs: readonly string[] = []): Promise<PrivateSentinelSet> {
    const master = await PrivateRedis.start(extraArgs);
    const replica = await PrivateRedis.start([
      ...extraArgs,
      "--replicaof",
      "127.0.0.1",
      String(master.port),
    ]);
    const ports = [await freePort(), await freePort(), await freePort()];
    const set = new PrivateSentinelSet(master, replica, ports);
    for (const port of ports) set.startSentinel(port);
    const deadline = Date.now() + 30_000;
    for (const port of ports) {
      for (;;) {
        const reply = await rawCommand(port, `SENTINEL REPLICAS ${set.name}`);
        if (reply.includes(String(replica.port)) && reply.includes("slave")) break;
        if (Date.now() > deadline) {
          await set.destroy();
          throw new Error(`sentinel on port ${port} did not see the replica within 30 s: ${reply}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    return set;
  }

  private startSentinel(port: number): void {
    const file = path.join(this.master.dir, `sentinel-${port}.conf`);
    writeFileSync(
      file,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        `dir ${this.master.dir}`,
        `sentinel monitor ${this.name} 127.0.0.1 ${this.master.port} 2`,
        `sentinel down-after-milliseconds ${this.name} 2000`,
        `sentinel failover-timeout ${this.name} 10000`,
        `sentinel parallel-syncs ${this.name} 1`,
        "",
      ].join("\n"),
    );
    this.sentinelProcesses.push(spawn("redis-server", [file, "--sentinel"], { stdio: "ignore" }));
  }

  /** The sentinels as ioredis takes them. */
  get sentinels(): { host: string; port: number }[] {
    return this.sentinelPorts.map((port) => ({ host: "127.0.0.1", port }));
  }

  /** The port of the server the sentinels now call master. */
  async masterPort(): Promise<number> {
    const reply = await rawCommand(
      this.sentinelPorts[0]!,
      `SENTINEL GET-MASTER-ADDR-BY-NAME ${this.name}`,
    );
    const lines = reply.split("\r\n");
    return Number(lines[4]);
  }

  /**
   * Asks a sentinel to fail the master over (`SENTINEL FAILOVER`) and waits until the sentinels
   * name the other server as master.
   * @returns the new master's port
   */
  async failover(timeoutMs = 30_000): Promise<number> {
    const before = await this.masterPort();
    const deadline = Date.now() + timeoutMs;
    // -NOGOODSLAVE until the sentinel has had an INFO reply from the replica (it asks every
    // 10 s; a replica whose INFO is missing or stale is not promotable), -INPROG while a previous
    // failover settles: both pass, so they are retried until the deadline.
    for (;;) {
      const reply = await rawCommand(this.sentinelPorts[0]!, `SENTINEL FAILOVER ${this.name}`);
      if (reply.startsWith("+OK")) break;
      if (!/^-(NOGOODSLAVE|INPROG)/.test(reply) || Date.now() > deadline) {
        throw new Error(`SENTINEL FAILOVER replied ${reply.trim() || "nothing"}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    for (;;) {
      const now = await this.masterPort();
      if (now && now !== before) return now;
      if (Date.now() > deadline) throw new Error(`no failover within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Kills every process of the set and removes its dirs. */
  async destroy(): Promise<void> {
    for (const child of this.sentinelProcesses) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
    await this.replica.destroy();
    await this.master.destroy();
  }
}

/**
 * Starts a PrivateSentinelSet before the tests of the enclosing `describe` and destroys it after
 * them (jest's injected `beforeAll`/`afterAll`).
 * @returns the running set, for use inside the tests
 */
export function usePrivateSentinels(): () => PrivateSentinelSet {
  const { beforeAll, afterAll } = globalThis as unknown as typeof JestGlobals;
  let set: PrivateSentinelSet | undefined;
  beforeAll(async () => {
    set = await PrivateSentinelSet.start();
  }, 60_000);
  afterAll(async () => {
    await set?.destroy();
  });
  return () => set!;
}
