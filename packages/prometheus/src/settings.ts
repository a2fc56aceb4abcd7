import { tmpdir } from "node:os";
import path from "node:path";
import { InvalidOptionError } from "@dq/core";
import { envSetting } from "@dq/core/adapter";

/** Where the exposition server listens and where worker processes leave their metrics. */
export interface ServerSettings {
  /** Host the exposition server binds (env `DQ_PROM_HOST` or `dramatiq_prom_host`, default `127.0.0.1`; Dramatiq binds `0.0.0.0`). */
  httpHost: string;
  /** Port of the exposition server (env `DQ_PROM_PORT` or `dramatiq_prom_port`, default 9191). */
  httpPort: number;
  /** The per-run directory of the worker processes' metric files (env `DQ_PROM_DB` or `dramatiq_prom_db`). */
  dbDirectory: string;
}

/**
 * The run directory's default: `<tmpdir>/dq-prometheus-<supervisor pid>`, from the
 * `DQ_SUPERVISOR_PID` the `dq` command gives its children (else this process's parent).
 */
export function defaultDbDirectory(): string {
  const run = process.env.DQ_SUPERVISOR_PID || String(process.ppid);
  return path.join(tmpdir(), `dq-prometheus-${run}`);
}

/** Parses a TCP port (0 picks a free one). @throws InvalidOptionError when it is not one */
export function parsePort(value: unknown, source: string): number {
  const port = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidOptionError(
      `${source}=${JSON.stringify(value)} is not a TCP port (an integer from 0 to 65535)`,
    );
  }
  return port;
}

/**
 * Resolves the settings: constructor options first, then Dramatiq's environment variables,
 * then the defaults.
 */
export function resolveSettings(
  options: { httpHost?: string; httpPort?: number; dbDirectory?: string } = {},
): ServerSettings {
  // DQ_PROM_HOST / DQ_PROM_PORT / DQ_PROM_DB, with Dramatiq's dramatiq_prom_* names as aliases.
  const port = envSetting("dramatiq_prom_port");
  return {
    httpHost: options.httpHost ?? (envSetting("dramatiq_prom_host")?.value || "127.0.0.1"),
    httpPort:
      options.httpPort !== undefined
        ? parsePort(options.httpPort, "httpPort")
        : port
          ? parsePort(port.value, port.name)
          : 9191,
    dbDirectory: path.resolve(
      options.dbDirectory ?? (envSetting("dramatiq_prom_db")?.value || defaultDbDirectory()),
    ),
  };
}
