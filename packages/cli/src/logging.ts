import { createLogger, setLoggerFactory } from "@dq/core";

/**
 * Makes every dq logger of this process write Dramatiq-style lines to stderr (which the
 * supervisor forwards to the terminal or the log file), at the level the supervisor set in
 * `DQ_LOG_LEVEL`. Skipped with `--skip-logging`, leaving the user's logger factory in place.
 */
export function installLogging(): void {
  setLoggerFactory((name) => createLogger(name));
}
