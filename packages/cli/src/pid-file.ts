import { readFileSync, rmSync, writeFileSync } from "node:fs";

/** The pid file is held by a running process, or holds something that is not a pid (exit 4). */
export class PidFileError extends Error {
  override name = "PidFileError";
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Writes this process's pid to `file` (mode 0644), as Dramatiq does: a stale file (its process is
 * gone) is replaced; one holding our own pid (a reload) is accepted.
 * @throws PidFileError when a live process holds the file or its content is not a pid
 */
export function acquirePidFile(file: string): void {
  let content: string | undefined;
  try {
    content = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      throw new PidFileError(`cannot read pid file ${file}: ${(error as Error).message}`);
  }
  if (content !== undefined) {
    const text = content.trim();
    if (!/^\d+$/.test(text))
      throw new PidFileError(
        `pid file ${file} does not hold a pid (found ${JSON.stringify(text.slice(0, 40))}); remove it if no dq runs`,
      );
    const pid = Number(text);
    if (pid !== process.pid && alive(pid))
      throw new PidFileError(`pid file ${file} is held by running process ${pid}`);
    if (pid !== process.pid) rmSync(file, { force: true });
  }
  try {
    writeFileSync(file, `${process.pid}\n`, {
      mode: 0o644,
      flag: content === undefined || Number(content.trim()) !== process.pid ? "wx" : "w",
    });
  } catch (error) {
    throw new PidFileError(`cannot write pid file ${file}: ${(error as Error).message}`);
  }
}

/** Removes the pid file if it still holds our pid. */
export function releasePidFile(file: string): void {
  try {
    if (readFileSync(file, "utf8").trim() === String(process.pid)) rmSync(file, { force: true });
  } catch {
    // Already gone.
  }
}
