/**
 * Every child process the suite starts (servers, workers, producers, `dq`) is registered here and
 * killed by PID (or by the process group the suite created for it) when the test process ends,
 * on SIGINT/SIGTERM too, so that a failing or interrupted run leaves nothing behind.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { openSync, closeSync } from "node:fs";

interface Tracked {
  child: ChildProcess;
  /** Kill the whole process group this child leads (started with `detached: true`). */
  group: boolean;
}

const tracked = new Set<Tracked>();
let hooked = false;

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
  const entry = { child, group };
  tracked.add(entry);
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
export async function stopChild(child: ChildProcess, name: NodeJS.Signals, timeout: number, group = false): Promise<boolean> {
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
