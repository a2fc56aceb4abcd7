import type { ForkSpec } from "@dq/core";

/** A module to load in a worker: a resolved file URL or package name, and maybe the broker export. */
export interface ModuleSpec {
  /** What the user wrote, for messages. */
  given: string;
  /** The `file:` URL of the resolved module. */
  url: string;
  /** The export holding a Broker (`module:exportName`). */
  exportName?: string;
}

/** What the supervisor tells a worker process (its argv[2], JSON). */
export interface WorkerConfig {
  index: number;
  modules: ModuleSpec[];
  queues: string[] | undefined;
  concurrency: number;
  shutdownTimeout: number;
  heartbeatInterval: number;
  skipLogging: boolean;
  /** `--in-memory`: run on the in-memory broker `getBroker()` makes when none is configured. */
  inMemory?: boolean;
}

/** What a fork process is told (its argv[2], JSON). */
export interface ForkConfig {
  index: number;
  fork: ForkSpec;
  skipLogging: boolean;
}

/** Messages from a worker process to the supervisor. */
export type WorkerReport =
  /** Boot done: the middleware's forks, for the supervisor to run once. */
  | { type: "booted"; forks: ForkSpec[]; queues: string[] }
  /** The worker cannot run: exit code 2 (modules) or 3 (broker unreachable). */
  | { type: "boot-error"; code: 2 | 3; message: string }
  /**
   * Sent every `heartbeatInterval` ms, and at once when a message starts: `deadline` is the
   * earliest time-limit deadline (epoch ms) of the running messages, null when none has one.
   */
  | { type: "heartbeat"; deadline: number | null; running: number };

/** Narrows an IPC payload to a `WorkerReport`. */
export function isWorkerReport(value: unknown): value is WorkerReport {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}
