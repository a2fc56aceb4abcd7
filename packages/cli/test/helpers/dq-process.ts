// Spawns the real built `dq` command and watches its output, for the end-to-end tests.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export const packageDir = path.resolve(__dirname, "../..");
export const binPath = path.join(packageDir, "dist", "bin.js");
export const fixture = (name: string) => path.join(packageDir, "test", "fixtures", name);

/** How a test runs `dq`. */
export interface DqOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Spawn in a process group of its own (for `kill -TERM -<pgid>`). */
  detached?: boolean;
  inMemory?: boolean;
}

/** A running `dq` process with its captured output. */
export class DqProcess {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private listeners: (() => void)[] = [];

  /**
   * @param options.inMemory - pass `--in-memory` (default: when no DQ_BROKER_URL is given), as the
   * fixtures that run on each worker's own in-memory broker need
   */
  constructor(args: string[], options: DqOptions = {}) {
    if (options.inMemory ?? !options.env?.DQ_BROKER_URL) args = [...args, "--in-memory"];
    // DQ_PROMETHEUS=0: @dq/prometheus is resolvable here through pnpm's NODE_PATH, and its
    // exposition fork (port 9191) is not what these tests are about.
    const env: Record<string, string | undefined> = {
      ...process.env,
      DQ_LOG_LEVEL: "info",
      DQ_BROKER_URL: undefined,
      DQ_PROMETHEUS: "0",
      ...options.env,
    };
    this.child = spawn(process.execPath, [binPath, ...args], {
      cwd: options.cwd ?? packageDir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: options.detached,
    });
    this.child.stdout!.on("data", (chunk: Buffer) => {
      this.stdout += chunk.toString();
      this.notify();
    });
    this.child.stderr!.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.notify();
    });
    this.exited = new Promise((resolve) =>
      this.child.on("close", (code, signal) => resolve({ code, signal })),
    );
    void this.exited.then(() => this.notify());
    running.add(this);
  }

  get output(): string {
    return this.stdout + this.stderr;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Waits until `test` holds for the output (stdout + stderr), or fails after `timeout` ms. */
  waitFor(test: RegExp | ((output: string) => boolean), timeout = 20_000): Promise<string> {
    const check = typeof test === "function" ? test : (output: string) => test.test(output);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((listener) => listener !== onChange);
      };
      const onChange = () => {
        if (check(this.output)) {
          done();
          resolve(this.output);
        } else if (!this.alive) {
          done();
          reject(
            new Error(
              `dq exited (${this.child.exitCode ?? this.child.signalCode}) before ${String(test)}; output:\n${this.output}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `timed out after ${timeout} ms waiting for ${String(test)}; output:\n${this.output}`,
          ),
        );
      }, timeout);
      this.listeners.push(onChange);
      onChange();
    });
  }

  /** Counts the matches of `pattern` (global) in the output. */
  count(pattern: RegExp): number {
    return [
      ...this.output.matchAll(
        new RegExp(
          pattern.source,
          pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`,
        ),
      ),
    ].length;
  }

  /** The pids of the worker processes that booted, by index, in boot order. */
  bootedWorkers(): { index: number; pid: number }[] {
    return [
      ...this.output.matchAll(
        /\[PID (\d+)\] \[dq\.WorkerProcess\((\d+)\)\] \[INFO\] Worker process \d+ booted/g,
      ),
    ].map((match) => ({
      pid: Number(match[1]),
      index: Number(match[2]),
    }));
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }
}

const running = new Set<DqProcess>();

/** Kills every dq process (and its workers) still running; for `afterEach`. */
export async function killAll(): Promise<void> {
  for (const dq of running) {
    for (const { pid } of dq.bootedWorkers()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    if (dq.alive) {
      dq.child.kill("SIGKILL");
      await dq.exited;
    }
  }
  running.clear();
}

/** Runs `dq` to completion. */
export async function runDq(args: string[], options: DqOptions = {}) {
  const dq = new DqProcess(args, options);
  const { code, signal } = await dq.exited;
  return { code, signal, stdout: dq.stdout, stderr: dq.stderr };
}
