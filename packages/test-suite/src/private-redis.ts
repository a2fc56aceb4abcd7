import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * A `redis-server` of a test's own, on a free loopback port, for tests that stop, kill or pause
 * their server (the shared one is never touched). With `appendonly`, what it held survives `kill()`
 * and `restart()` (`appendfsync always`).
 */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** The running server's process id (changes on restart). */
  readonly pid: number | undefined;
  /** SIGKILLs the server and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data directory; resolves once it answers. */
  restart(): Promise<void>;
  /** SIGSTOPs the server: connections stay open, nothing answers. */
  pause(): void;
  /** SIGCONTs a paused server. */
  resume(): void;
  /** Stops the server for good and deletes its data directory. */
  stop(): Promise<void>;
}

/** Whether a `redis-server` binary is on the PATH. */
export function redisServerAvailable(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Starts a private `redis-server` (`--save ""`, loopback only, in a temporary directory).
 * @param options.appendonly - keep data across `kill()`/`restart()` (AOF with `appendfsync always`)
 * @throws Error when the server does not answer within 10 s
 */
export async function startPrivateRedis(options: { appendonly?: boolean } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "dq-private-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir, "--daemonize", "no"];
  if (options.appendonly) args.push("--appendonly", "yes", "--appendfsync", "always");
  let child: ChildProcess | undefined;

  const launch = async () => {
    child = spawn("redis-server", args, { stdio: "ignore" });
    for (let i = 0; i < 200; i++) {
      if (await answers(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill("SIGKILL");
    throw new Error(`private redis-server on port ${port} did not answer within 10 s`);
  };
  await launch();

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    async kill() {
      if (!child) return;
      child.kill("SIGCONT");
      child.kill("SIGKILL");
      await exited(child);
    },
    restart: launch,
    pause() {
      child?.kill("SIGSTOP");
    },
    resume() {
      child?.kill("SIGCONT");
    },
    async stop() {
      if (child) {
        child.kill("SIGCONT");
        child.kill("SIGKILL");
        await exited(child);
        child = undefined;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
