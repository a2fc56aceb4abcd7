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
  /** How long the worker may take to return its messages and close the broker after the shutdown timeout (ms). */
  closeTimeout: number;
  skipLogging: boolean;
  /** Serve Prometheus metrics here (`--metrics`); undefined when not asked. */
  metrics: MetricsAddress | undefined;
  /** A message whose kill count reaches this is dead-lettered instead of run (`--max-kills`). */
  maxKills: number;
  /** Kill counts known when the process starts: message id → count. */
  kills: Record<string, number>;
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
   * earliest time-limit deadline (epoch ms) of the running messages, null when none has one;
   * `messages` the running messages' ids with their deadlines (null: no time limit).
   */
  | { type: "heartbeat"; deadline: number | null; running: number; messages: RunningMessage[] };

/** A message running in a worker process, as its heartbeat reports it. */
export interface RunningMessage {
  id: string;
  /** Its time-limit deadline (epoch ms), null when it has none. */
  deadline: number | null;
}

/** Messages from the supervisor to a worker or fork process. */
export type SupervisorCommand =
  /**
   * Stop gracefully, as the first TERM does, without counting as a signal (a TERM sent to the
   * whole process group reaches the process too: together they are one stop). `timeout`
   * overrides the shutdown timeout (a recycled process).
   */
  | { type: "stop"; timeout?: number }
  /** How many times each message's processing has killed or replaced a worker process. */
  | { type: "kills"; counts: Record<string, number> };

/** Narrows an IPC payload to a `SupervisorCommand`. */
export function isSupervisorCommand(value: unknown): value is SupervisorCommand {
  const type =
    typeof value === "object" && value !== null ? (value as { type?: unknown }).type : undefined;
  return type === "stop" || type === "kills";
}

/** Narrows an IPC payload to a `WorkerReport`. */
export function isWorkerReport(value: unknown): value is WorkerReport {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { type?: unknown }).type === "string"
  );
}

/** Where `--metrics` asks the Prometheus exposition server to listen; unset parts come from the environment or the defaults (127.0.0.1:9191). */
export interface MetricsAddress {
  host?: string;
  port?: number;
}
