import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";

/** A queue name unique to this test run: `dqtest_<random>`. */
export function uniqueQueueName(prefix = "dqtest"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

/** Polls `condition` every 5 ms until it holds; throws after `timeout` ms with `what`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A logger that records lines instead of printing them. */
export function recordingLogger(): {
  lines: string[];
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
} {
  const lines: string[] = [];
  const push = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { lines, debug: push("debug"), info: push("info"), warn: push("warn"), error: push("error") };
}

/**
 * Reads one of the recordings of what Python Dramatiq writes on the wire
 * (`fixtures/dramatiq-wire/<name>` at the repository root).
 */
export function loadWireFixture<T = Record<string, unknown>>(name: string): T {
  // Resolved from the working directory upwards so it works from sources (jest) and builds alike.
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "fixtures", "dramatiq-wire", name);
    if (existsSync(candidate)) return JSON.parse(readFileSync(candidate, "utf8")) as T;
    if (path.dirname(dir) === dir) throw new Error(`wire fixture ${name} not found above ${process.cwd()}`);
  }
}
