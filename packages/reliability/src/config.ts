/**
 * What the suite hands its child processes (worker, producer, the `dq` module) as JSON: which
 * broker to build, which queue, and where to record what ran.
 */

/** The broker a child builds. */
export type BrokerConfig =
  | {
      kind: "redis";
      url: string;
      /** A namespace of the scenario's own (shared servers) or the default (private ones). */
      namespace: string;
      /** Short, so that a SIGKILLed worker's messages come back within the run (ms). */
      heartbeatTimeout?: number;
      /** Per million dispatch calls; the suite uses every call, so recovery does not wait on chance. */
      maintenanceChance?: number;
    }
  | { kind: "rabbitmq"; url: string; confirmDelivery?: boolean };

/** The actors of the suite; each records what ran in the ledger. */
export type ActorKind = "ok" | "fail" | "poison" | "slow" | "badRetry";

/** One scenario's setting, shared by its workers and producers. */
export interface ScenarioConfig {
  broker: BrokerConfig;
  /** The scenario's queue (unique per run). */
  queue: string;
  /** The ledger: a Redis that is never restarted (the shared one), and the scenario's key prefix. */
  ledgerUrl: string;
  ledgerPrefix: string;
  /** A result backend for `ok` (which then stores its results). */
  resultsUrl?: string;
  /** How long `slow` sleeps (ms, default 20). */
  slowMs?: number;
  /** How long `fail` works before it throws (ms, default 200): an outage then finds attempts in flight. */
  failMs?: number;
}

/** A worker child's setting (the JSON file named by argv[2]). */
export interface WorkerChildConfig extends ScenarioConfig {
  concurrency: number;
}

/** One message a producer sends. */
export interface PlannedSend {
  actor: ActorKind;
  /** Send with this delay (ms). */
  delay?: number;
  /** Message options, passed as given (the suite sends invalid ones on purpose). */
  options?: Record<string, unknown>;
}

/** A producer child's setting (the JSON file named by argv[2]). */
export interface ProducerChildConfig extends ScenarioConfig {
  plan: PlannedSend[];
  /** Spread the sends over this many ms (0: as fast as they resolve). */
  durationMs: number;
  /** Keep retrying a send that fails for this long before giving up on it (ms). */
  retryForMs: number;
  /** Where the ids of the sends that resolved go, one a line. */
  sentFile: string;
  /**
   * Close the broker before exiting. Off by default: a one-shot producer that exits right after
   * `await send()` is what the restart rows hold the broker to; rows about something else close.
   */
  closeBeforeExit?: boolean;
}

/** Ledger keys under a scenario's prefix. */
export const ledgerKeys = (prefix: string) => ({
  /** `messageId` once per completed invocation of `ok`/`slow`. */
  done: `${prefix}:done`,
  /** `messageId:retries` once per invocation of `fail`/`badRetry`/`poison`. */
  attempts: `${prefix}:attempts`,
  /** The PID of every process that loaded the actors (workers and their replacements). */
  boots: `${prefix}:boots`,
});
