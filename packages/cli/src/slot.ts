import type { ChildProcess } from "node:child_process";
import type { ForkSpec } from "@dq/core";
import type { RunningMessage, SupervisorCommand } from "./ipc.js";

/** Timings of the supervisor; the defaults suit production, tests may shorten them. */
export interface SupervisorTimings {
  /** How often workers send a heartbeat (ms). */
  heartbeatInterval: number;
  /** How long past a running message's time limit a silent worker is left before it is killed (ms). */
  blockedMargin: number;
  /** First restart delay of a crashed process; doubles while it keeps crashing (ms). */
  restartDelay: number;
  /** Cap of the restart delay (ms). */
  maxRestartDelay: number;
  /** A process that ran this long before dying restarts without backoff (ms). */
  stableAfter: number;
  /** Extra time a stopping worker gets beyond `--worker-shutdown-timeout` before SIGKILL (ms). */
  shutdownGrace: number;
  /**
   * How long a stopping worker may take, after its shutdown timeout, to return its messages and
   * close the broker before it exits anyway (ms); below `shutdownGrace`.
   */
  closeTimeout: number;
  /**
   * How long past its time limit a message may keep running while the worker still sends
   * heartbeats (an invocation that ignores its AbortSignal) before the process is recycled (ms).
   */
  stuckGrace: number;
}

/** The production timings. */
export const DEFAULT_TIMINGS: SupervisorTimings = {
  heartbeatInterval: 500,
  blockedMargin: 2000,
  restartDelay: 500,
  maxRestartDelay: 30_000,
  stableAfter: 30_000,
  shutdownGrace: 5000,
  closeTimeout: 3000,
  stuckGrace: 10_000,
};

export type Kind = "worker" | "fork";

/** One supervised slot: a worker or fork process and its restart history. */
export interface Slot {
  kind: Kind;
  index: number;
  fork?: ForkSpec;
  child?: ChildProcess;
  startedAt: number;
  booted: boolean;
  lastBeat: number;
  deadline: number | null;
  /** The running messages of its last heartbeat. */
  messages: RunningMessage[];
  /** Stopped on purpose (HUP reload): start again at once. */
  reloading: boolean;
  /** SIGKILLed by the supervisor for a blocked event loop. */
  killedBlocked: boolean;
  /** Being replaced because a message stays running past its time limit. */
  recycling: boolean;
  failures: number;
  restartTimer?: NodeJS.Timeout;
}

/**
 * The timings: the defaults, with any field overridden by `DQ_SUPERVISOR_TIMINGS` (JSON, e.g.
 * `{"stuckGrace":1000}`; for tests and experiments).
 * @throws Error naming the field when a value is not a number of ms (or the JSON does not parse)
 */
export function timingsFromEnv(raw = process.env.DQ_SUPERVISOR_TIMINGS): SupervisorTimings {
  if (!raw) return DEFAULT_TIMINGS;
  const given = JSON.parse(raw) as Partial<Record<keyof SupervisorTimings, unknown>>;
  const result = { ...DEFAULT_TIMINGS };
  for (const key of Object.keys(DEFAULT_TIMINGS) as (keyof SupervisorTimings)[]) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
      throw new Error(
        `DQ_SUPERVISOR_TIMINGS: ${key} must be a number of ms (got ${JSON.stringify(value)})`,
      );
    result[key] = value;
  }
  return result;
}

/** A slot that has not started yet. */
export function newSlot(kind: Kind, index: number, spec?: ForkSpec): Slot {
  return {
    kind,
    index,
    fork: spec,
    startedAt: 0,
    booted: false,
    lastBeat: 0,
    deadline: null,
    messages: [],
    reloading: false,
    killedBlocked: false,
    recycling: false,
    failures: 0,
  };
}

/** Sends a command over a child's IPC channel. @returns false when the channel is gone */
export function sendCommand(child: ChildProcess | undefined, command: SupervisorCommand): boolean {
  if (!child?.connected) return false;
  try {
    child.send(command, (error) => error && undefined);
    return true;
  } catch {
    return false;
  }
}
