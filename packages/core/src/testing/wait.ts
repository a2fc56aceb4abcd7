import { randomBytes } from "node:crypto";

/**
 * Polls `condition` every `interval` ms (5 by default) until it holds; throws after `timeout` ms
 * (15 s by default, the machine may be loaded) with `what` in the message.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeout = 15_000,
  interval = 5,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** Resolves to what `promise` rejected with; throws (failing the test) when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    return error;
  }
  throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
}

/** A name unique to this test run: `<prefix>_<12 hex digits>` (queue names, namespaces, keys). */
export function uniqueQueueName(prefix = "dqtest"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

/** A logger (it fits `Logger`) that records `<level> <message>` lines instead of printing them. */
export interface RecordingLogger {
  /** Every line logged so far, oldest first. */
  lines: string[];
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A logger that records lines instead of printing them. */
export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const push = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return {
    lines,
    debug: push("debug"),
    info: push("info"),
    warn: push("warn"),
    error: push("error"),
  };
}
