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
