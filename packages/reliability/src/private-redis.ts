import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, redisAnswers, waitFor } from "@dq/core/testing";
import { exited, registerTempDir, spawnTracked, stopChild } from "./processes.js";

/** What `PrivateRedis.start` takes. */
export interface PrivateRedisOptions {
  /** Append-only file with `appendfsync always` (default true): a restart keeps every acknowledged write. */
  persistent?: boolean;
  /** Where the server's log goes (default: its data directory). */
  logFile?: string;
}

/**
 * A `redis-server` of the suite's own, on a free port of 127.0.0.1, in a temporary directory:
 * stopped (SIGTERM, so the append-only file is complete), started again on the same port and
 * directory, and killed by PID. Never the shared server.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: PrivateRedisOptions,
  ) {}

  /** The URL to give clients. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The server's PID while it runs. */
  get pid(): number | undefined {
    return this.child && !exited(this.child) ? this.child.pid : undefined;
  }

  /** Starts a new server and waits until it answers PING. */
  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const server = new PrivateRedis(
      await freePort(),
      registerTempDir(mkdtempSync(path.join(tmpdir(), "dqrel-redis-"))),
      options,
    );
    await server.up();
    return server;
  }

  /** Starts the server process (again) on the same port and directory; waits until it answers. */
  async up(timeout = 30_000): Promise<void> {
    if (this.child && !exited(this.child)) return;
    const persistence =
      this.options.persistent === false
        ? ["--appendonly", "no"]
        : ["--appendonly", "yes", "--appendfsync", "always"];
    this.child = spawnTracked(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--dir",
        this.dir,
        "--save",
        "",
        ...persistence,
        "--daemonize",
        "no",
        "--protected-mode",
        "no",
      ],
      { logFile: this.options.logFile ?? path.join(this.dir, "redis.log") },
    );
    const child = this.child;
    const ready = async () => {
      if (exited(child))
        throw new Error(
          `redis-server on port ${this.port} exited (code ${child.exitCode}); see ${this.options.logFile ?? this.dir}`,
        );
      return redisAnswers(this.port);
    };
    await waitFor(ready, `redis-server on port ${this.port}`, timeout, 100);
  }

  /** Stops the server with SIGTERM (a clean shutdown), SIGKILL after `timeout` ms. */
  async down(timeout = 15_000): Promise<void> {
    if (!this.child) return;
    await stopChild(this.child, "SIGTERM", timeout);
  }

  /** Stops the server, waits `gapMs`, starts it again. */
  async restart(gapMs = 500): Promise<void> {
    await this.down();
    await sleep(gapMs);
    await this.up();
  }

  /** Kills the server and removes its directory. */
  async destroy(): Promise<void> {
    if (this.child) await stopChild(this.child, "SIGKILL", 5000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
