import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, redisAnswers } from "./net.js";

/** Whether a `redis-server` binary is on the PATH (`scripts/services.sh` installs it). */
export function redisServerAvailable(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

/** redis-server options that keep every acknowledged write across a kill or restart. */
export const APPEND_ONLY = ["--appendonly", "yes", "--appendfsync", "always"] as const;

/**
 * A redis-server of the test's own (never the shared one), on a free port and in a temp dir, for
 * tests that restart or pause the server. Stopped by PID; the dir is removed by `destroy()`.
 */
export class PrivateRedis {
  readonly dir = mkdtempSync(path.join(tmpdir(), "dq-private-redis-"));
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[],
  ) {}

  /** Starts a server; `extraArgs` are redis-server options (e.g. `--appendonly yes`). */
  static async start(extraArgs: readonly string[] = []): Promise<PrivateRedis> {
    const server = new PrivateRedis(await freePort(), extraArgs);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts the server again (same port and dir) and waits until it answers PING. */
  async start(): Promise<void> {
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--dir",
      this.dir,
      "--daemonize",
      "no",
      ...this.extraArgs,
    ];
    const child = spawn("redis-server", args, { stdio: "ignore" });
    this.process = child;
    const deadline = Date.now() + 20_000;
    for (;;) {
      // LOADING while the AOF is replayed: wait for a real PONG.
      if (await redisAnswers(this.port)) return;
      if (child.exitCode !== null)
        throw new Error(`redis-server on port ${this.port} exited with ${child.exitCode}`);
      if (Date.now() > deadline)
        throw new Error(`redis-server on port ${this.port} did not answer within 20 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Stops the server with `signal` (SIGTERM: a clean shutdown) and waits for its exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  }

  /** SIGSTOP: the server keeps its connections but answers nothing. */
  pause(): void {
    this.process?.kill("SIGSTOP");
  }

  /** SIGCONT after `pause()`. */
  resume(): void {
    this.process?.kill("SIGCONT");
  }

  /** SIGKILLs the server (resuming it first if paused) and waits for its exit; `start()` brings it back. */
  async kill(): Promise<void> {
    this.resume();
    await this.stop("SIGKILL");
  }

  /** Kills the server (resuming it first if paused) and removes its dir. */
  async destroy(): Promise<void> {
    this.resume();
    await this.stop("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}
