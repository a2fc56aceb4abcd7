// Spawns the real built `dq` command (packages/cli/dist/bin.js) and watches its output.
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer, type Server } from "node:net";
import path from "node:path";

export const binPath = path.resolve(__dirname, "../../../cli/dist/bin.js");
export const fixture = (name: string) => path.resolve(__dirname, "../fixtures", name);

const running = new Set<DqProcess>();

/** A running `dq` process with its captured output. */
export class DqProcess {
  readonly child: ChildProcess;
  output = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private listeners: (() => void)[] = [];

  constructor(args: string[], env: Record<string, string | undefined>) {
    // Without DQ_BROKER_URL each worker runs on its own in-memory broker, which dq refuses unless told.
    if (!env.DQ_BROKER_URL) args = [...args, "--in-memory"];
    const fullEnv: Record<string, string | undefined> = {
      ...process.env,
      DQ_LOG_LEVEL: "info",
      DQ_BROKER_URL: undefined,
      DQ_PROMETHEUS: undefined,
      ...env,
    };
    this.child = spawn(process.execPath, [binPath, ...args], {
      cwd: path.resolve(__dirname, "../.."),
      env: fullEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const onData = (chunk: Buffer) => {
      this.output += chunk.toString();
      for (const listener of [...this.listeners]) listener();
    };
    this.child.stdout!.on("data", onData);
    this.child.stderr!.on("data", onData);
    this.exited = new Promise((resolve) =>
      this.child.on("close", (code, signal) => resolve({ code, signal })),
    );
    void this.exited.then(() => this.listeners.forEach((listener) => listener()));
    running.add(this);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits until the output matches, or fails after `timeout` ms (or when dq exits first). */
  waitFor(pattern: RegExp, timeout = 30_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((listener) => listener !== check);
      };
      const check = () => {
        const match = pattern.exec(this.output);
        if (match) {
          done();
          resolve(match);
        } else if (!this.alive) {
          done();
          reject(new Error(`dq exited before ${String(pattern)}; output:\n${this.output}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `timed out after ${timeout} ms waiting for ${String(pattern)}; output:\n${this.output}`,
          ),
        );
      }, timeout);
      this.listeners.push(check);
      check();
    });
  }

  /** The pids of the worker processes that booted. */
  workerPids(): number[] {
    return [
      ...this.output.matchAll(
        /\[PID (\d+)\] \[dq\.WorkerProcess\(\d+\)\] \[INFO\] Worker process \d+ booted/g,
      ),
    ].map((match) => Number(match[1]));
  }

  /** The pids of every child (workers and forks) that logged a line. */
  childPids(): number[] {
    return [
      ...new Set(
        [
          ...this.output.matchAll(/\[PID (\d+)\] \[dq\.(?:WorkerProcess|ForkProcess|Prometheus)/g),
        ].map((match) => Number(match[1])),
      ),
    ];
  }
}

/** Kills every dq process started by a test and its children; for `afterEach`. */
export async function killAll(): Promise<void> {
  for (const dq of running) {
    for (const pid of dq.childPids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    if (dq.alive) dq.child.kill("SIGKILL");
    await dq.exited;
  }
  running.clear();
}

/** A TCP port that was free a moment ago. */
export { freePort } from "@dq/core/testing";

/** A server holding `port` on 127.0.0.1 (0: any). */
export function listen(port: number): Promise<Server> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

/** GETs a URL; resolves with the status and body. */
export async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the samples of a Prometheus text exposition (comments are skipped). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function total(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  return samples
    .filter(
      (sample) =>
        sample.name === name &&
        Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    )
    .reduce((sum, sample) => sum + sample.value, 0);
}

/** Polls `test` every 200 ms until it holds, or fails after `timeout` ms. */
export async function until(
  test: () => Promise<boolean>,
  what: string,
  timeout = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await test().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The TCP sockets in LISTEN state that the processes `pids` hold, from /proc (the socket inodes
 * of their file descriptors matched against /proc/net/tcp and tcp6), as `address:port`.
 */
export function listeningSockets(pids: readonly number[]): string[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]!);
      } catch {
        // Closed meanwhile.
      }
    }
  }
  const sockets: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== "0A" || !inodes.has(fields[9]!)) continue;
      const [hex, port] = fields[1]!.split(":");
      sockets.push(`${decodeAddress(hex!)}:${parseInt(port!, 16)}`);
    }
  }
  return sockets;
}

/** A /proc/net/tcp address (little-endian words) as text: 127.0.0.1, 0.0.0.0, :: or an IPv6 in hex words. */
function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g)!.map((word) => word.match(/../g)!.reverse().join(""));
  if (words.length === 1)
    return words[0]!
      .match(/../g)!
      .map((byte) => parseInt(byte, 16))
      .join(".");
  const joined = words.join("").toLowerCase();
  if (/^0+$/.test(joined)) return "::";
  if (joined === "00000000000000000000000000000001") return "::1";
  if (joined.startsWith("00000000000000000000ffff")) return decodeAddress(hex.slice(24));
  return joined.match(/.{4}/g)!.join(":");
}
