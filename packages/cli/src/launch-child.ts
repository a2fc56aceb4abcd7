import { fork, type ChildProcess } from "node:child_process";
import type { CliOptions } from "./args.js";
import type { ForkConfig, MetricsAddress, ModuleSpec, WorkerConfig } from "./ipc.js";
import type { KillCounts } from "./kill-counts.js";
import type { LogSink } from "./log-sink.js";
import type { Slot, SupervisorTimings } from "./slot.js";

/** What the supervisor starts its worker and fork processes with. */
export interface LaunchSetup {
  readonly options: CliOptions;
  readonly modules: ModuleSpec[];
  readonly entries: { worker: string; fork: string };
  readonly sink: LogSink;
  readonly timings: SupervisorTimings;
  readonly metrics: MetricsAddress | undefined;
  readonly kills: KillCounts;
}

/**
 * Resets a slot's per-process state and forks its process (worker or fork), passing it its config.
 * @returns the child process (not yet stored in the slot, nor listened to)
 */
export function launchChild(slot: Slot, setup: LaunchSetup): ChildProcess {
  const { options, timings } = setup;
  slot.startedAt = Date.now();
  slot.booted = false;
  slot.deadline = null;
  slot.messages = [];
  slot.reloading = false;
  slot.killedBlocked = false;
  slot.recycling = false;
  const config: WorkerConfig | ForkConfig =
    slot.kind === "worker"
      ? {
          index: slot.index,
          modules: setup.modules,
          queues: options.queues,
          concurrency: options.concurrency,
          shutdownTimeout: options.workerShutdownTimeout,
          heartbeatInterval: timings.heartbeatInterval,
          closeTimeout: timings.closeTimeout,
          skipLogging: options.skipLogging,
          metrics: setup.metrics,
          maxKills: options.maxKills,
          kills: setup.kills.toRecord(),
          inMemory: options.inMemory,
        }
      : { index: slot.index, fork: slot.fork!, skipLogging: options.skipLogging };
  // Children write their output and logs straight to the command's stdout and stderr (or the log
  // file), not through pipes to this process: they outlive it long enough to drain if it dies.
  return fork(
    slot.kind === "worker" ? setup.entries.worker : setup.entries.fork,
    [JSON.stringify(config)],
    {
      stdio: ["ignore", "inherit", setup.sink.fd ?? "inherit", "ipc"],
      // Identifies the run to every child, e.g. @dq/prometheus's per-run metrics directory.
      env: { ...process.env, DQ_SUPERVISOR_PID: String(process.pid) },
    },
  );
}
