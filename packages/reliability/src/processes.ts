/**
 * Every child process the suite starts (servers, workers, producers, `dq`) is registered here and
 * killed by PID (or by the process group the suite created for it) when the test process ends,
 * on SIGINT/SIGTERM too, so that a failing or interrupted run leaves nothing behind.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { appendFileSync, closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

interface Tracked {
  child: ChildProcess;
  /** Kill the whole process group this child leads (started with `detached: true`). */
  group: boolean;
}

const tracked = new Set<Tracked>();
let hooked = false;
let registry: string | undefined;

// The reaper: a detached process that outlives this one if it dies without cleaning up (SIGKILL,
// a test runner that exits without running exit handlers). It polls this process every 500 ms;
// once it is gone, it SIGKILLs every registered PID (or process group) whose command name is still
// the one registered (so a reused PID is left alone), removes the registry and exits. It also exits
// when the registry is removed (a normal end).
const REAPER = `
const fs = require("node:fs");
const [parent, file] = process.argv.slice(1);
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const comm = (pid) => { try { return fs.readFileSync("/proc/" + pid + "/comm", "utf8").trim(); } catch { return undefined; } };
setInterval(() => {
  if (!fs.existsSync(file)) process.exit(0);
  if (alive(Number(parent))) return;
  for (const line of fs.readFileSync(file, "utf8").split("\\n")) {
    if (!line) continue;
    const { pid, group, name, dir } = JSON.parse(line);
    if (dir) {
      if (/\\/(dqrel|dq-rabbitmq)-/.test(dir)) fs.rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (comm(pid) !== name && !group) continue;
    try { process.kill(group ? -pid : pid, "SIGKILL"); } catch {}
  }
  fs.rmSync(file, { force: true });
  process.exit(0);
}, 500);
`;

function ensureReaper(): string {
  if (!registry) {
    registry = path.join(tmpdir(), `dqrel-reaper-${process.pid}-${Date.now()}.jsonl`);
    appendFileSync(registry, "");
    spawn(process.execPath, ["-e", REAPER, String(process.pid), registry], {
      detached: true,
      stdio: "ignore",
    }).unref();
  }
  return registry;
}

/** Has the reaper remove a temporary directory (named `dqrel-*` or `dq-rabbitmq-*`) if this process dies without cleaning up. */
export function registerTempDir(dir: string): string {
  appendFileSync(ensureReaper(), `${JSON.stringify({ dir })}\n`);
  return dir;
}

/** Registers a child with the reaper (started on first use). */
function register(child: ChildProcess, group: boolean): void {
  if (child.pid === undefined) return;
  const file = ensureReaper();
  let name = "";
  try {
    name = readComm(child.pid);
  } catch {
    // Not on /proc (not Linux): the reaper then leaves this PID alone unless it leads a group.
  }
  appendFileSync(file, `${JSON.stringify({ pid: child.pid, group, name })}\n`);
}

function readComm(pid: number): string {
  return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
}

function signal(entry: Tracked, name: NodeJS.Signals): void {
  const pid = entry.child.pid;
  if (pid === undefined) return;
  try {
    process.kill(entry.group ? -pid : pid, name);
  } catch {
    // Already gone.
  }
}

/** SIGKILLs every tracked process that is still running. */
export function killAll(): void {
  for (const entry of tracked) {
    if (entry.child.exitCode === null && entry.child.signalCode === null) signal(entry, "SIGKILL");
    else if (entry.group) signal(entry, "SIGKILL");
  }
  tracked.clear();
  if (registry) rmSync(registry, { force: true });
  registry = undefined;
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAll);
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    process.once(name, () => {
      killAll();
      process.kill(process.pid, name);
    });
  }
}

/** Whether a child has exited. */
export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Starts a tracked child. Output goes to `logFile` (appended) when given, else nowhere.
 * `group`: start it in a process group of its own, killed as a whole; `ipc`: open an IPC channel.
 */
export function spawnTracked(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { logFile?: string; group?: boolean; ipc?: boolean } = {},
): ChildProcess {
  hook();
  const { logFile, group = false, ipc = false, ...rest } = options;
  const fd = logFile ? openSync(logFile, "a") : undefined;
  const out = fd ?? "ignore";
  const stdio = rest.stdio ?? (ipc ? ["ignore", out, out, "ipc"] : ["ignore", out, out]);
  const child = spawn(command, args, { ...rest, stdio, detached: group });
  if (fd !== undefined) closeSync(fd);
  return adopt(child, group);
}

/**
 * Tracks a child started elsewhere (by `@dq/core/testing`'s private servers) like those of
 * `spawnTracked`: killed, with its process group when `group`, when the test process ends.
 */
export function adopt(child: ChildProcess, group: boolean): ChildProcess {
  hook();
  const entry = { child, group };
  tracked.add(entry);
  register(child, group);
  child.on("exit", () => {
    if (!group) tracked.delete(entry);
  });
  child.on("error", () => undefined);
  return child;
}

/**
 * Waits for a child to exit.
 * @returns true when it exited within `timeout` ms
 */
export function waitExit(child: ChildProcess, timeout: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(exited(child)), timeout);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Sends `name` to a child (its group when it leads one), waits up to `timeout` ms, then SIGKILLs.
 * @returns true when it stopped on `name` alone
 */
export async function stopChild(
  child: ChildProcess,
  name: NodeJS.Signals,
  timeout: number,
  group = false,
): Promise<boolean> {
  const entry: Tracked = { child, group };
  if (exited(child)) {
    if (group) signal(entry, "SIGKILL");
    return true;
  }
  signal(entry, name);
  const stopped = await waitExit(child, timeout);
  if (!stopped) signal(entry, "SIGKILL");
  await waitExit(child, 5000);
  // Stragglers of the group (helper processes) go too.
  if (group) signal(entry, "SIGKILL");
  return stopped;
}
