import type { ChildProcess } from "node:child_process";
import type { ForkSpec, Logger } from "@dq/core";
import type { CliOptions } from "./args.js";
import { HangMonitor } from "./hang-monitor.js";
import { isWorkerReport, type MetricsAddress, type ModuleSpec, type WorkerReport } from "./ipc.js";
import { KillCounts } from "./kill-counts.js";
import { launchChild } from "./launch-child.js";
import type { LogSink } from "./log-sink.js";
import {
  DEFAULT_TIMINGS,
  newSlot,
  sendCommand,
  type Slot,
  type SupervisorTimings,
} from "./slot.js";
import { SourceWatcher } from "./watch.js";

export { DEFAULT_TIMINGS, timingsFromEnv, type SupervisorTimings } from "./slot.js";

type State = "booting" | "running" | "stopping";

/**
 * The `dq` main process: forks the worker processes, waits for them to boot, runs the middleware's
 * forks, restarts a process that dies (with backoff), replaces a worker whose event loop stays
 * blocked past its running message's time limit, and handles INT/TERM (graceful, then kill) and
 * HUP (reload).
 */
export class Supervisor {
  private state: State = "booting";
  private readonly workers: Slot[] = [];
  private readonly forks: Slot[] = [];
  private forkSpecs: ForkSpec[] | undefined;
  private exitCode = 0;
  private finish!: (code: number) => void;
  private readonly done = new Promise<number>((resolve) => (this.finish = resolve));
  private monitor: NodeJS.Timeout | undefined;
  private hardStop: NodeJS.Timeout | undefined;
  private watcher: SourceWatcher | undefined;
  private signals = 0;
  private readonly kills = new KillCounts();
  private readonly hangs: HangMonitor;

  /**
   * @param options - the parsed command line
   * @param modules - the resolved modules every worker imports
   * @param entries - the worker, fork and scheduler-fork entry files
   */
  constructor(
    private readonly options: CliOptions,
    private readonly modules: ModuleSpec[],
    private readonly entries: { worker: string; fork: string; scheduler?: string },
    private readonly sink: LogSink,
    private readonly logger: Logger,
    private readonly timings: SupervisorTimings = DEFAULT_TIMINGS,
    private readonly metrics: MetricsAddress | undefined = undefined,
  ) {
    const isRunning = () => this.state === "running";
    this.hangs = new HangMonitor({
      workers: this.workers,
      kills: this.kills,
      options,
      timings,
      logger,
      get running() {
        return isRunning();
      },
      label: (slot) => this.label(slot),
      stopChild: (child, timeout) => this.stopChild(child, timeout),
    });
  }

  /** Runs until stopped. @returns the exit code */
  run(): Promise<number> {
    const onStop = (signal: NodeJS.Signals) => this.onStopSignal(signal);
    process.on("SIGINT", onStop);
    process.on("SIGTERM", onStop);
    process.on("SIGHUP", () => this.reload("SIGHUP"));
    this.logger.info(
      `dq ${this.options.modules.join(" ")}: starting ${this.options.processes} worker process${this.options.processes === 1 ? "" : "es"} ` +
        `with concurrency ${this.options.concurrency}${this.options.queues ? ` on queues ${this.options.queues.join(", ")}` : ""}.`,
    );
    for (let index = 0; index < this.options.processes; index++) {
      const slot = newSlot("worker", index);
      this.workers.push(slot);
      this.start(slot);
    }
    this.monitor = setInterval(
      () => this.hangs.check(),
      Math.max(50, Math.floor(this.timings.heartbeatInterval / 2)),
    );
    return this.done;
  }

  private label(slot: Slot): string {
    const name =
      slot.kind === "worker"
        ? `Worker process ${slot.index}`
        : `Fork process ${slot.index} (${slot.fork?.exportName ?? "?"})`;
    return slot.child?.pid ? `${name} (PID ${slot.child.pid})` : name;
  }

  private start(slot: Slot): void {
    const { options, modules, entries, sink, timings, metrics, kills } = this;
    const child = launchChild(slot, { options, modules, entries, sink, timings, metrics, kills });
    slot.child = child;
    child.on("message", (message) => {
      if (isWorkerReport(message)) this.onReport(slot, child, message);
    });
    child.on("error", (error) =>
      this.logger.error(`${this.label(slot)} could not be started or signalled.`, error),
    );
    child.on("exit", (code, signal) => this.onExit(slot, child, code, signal));
  }

  private onReport(slot: Slot, child: ChildProcess, report: WorkerReport): void {
    if (slot.child !== child) return;
    switch (report.type) {
      case "heartbeat":
        slot.lastBeat = Date.now();
        slot.deadline = report.deadline;
        slot.messages = Array.isArray(report.messages) ? report.messages : [];
        return;
      case "booted":
        slot.booted = true;
        slot.lastBeat = Date.now();
        this.forkSpecs ??= dedupe(report.forks);
        if (this.state === "booting" && this.workers.every((worker) => worker.booted))
          this.onAllBooted();
        return;
      case "boot-error":
        if (this.state === "booting") {
          this.logger.error(
            `${this.label(slot)} failed to boot; stopping (exit code ${report.code}).`,
          );
          this.exitCode = report.code;
          this.stop();
        }
        return;
    }
  }

  private onAllBooted(): void {
    this.state = "running";
    this.logger.info(
      `All ${this.workers.length} worker process${this.workers.length === 1 ? "" : "es"} booted.`,
    );
    if (this.options.scheduler && this.entries.scheduler) {
      // The scheduler runs as one more fork; it imports the same modules as the workers.
      process.env.DQ_SCHEDULER_MODULES = JSON.stringify(this.modules);
      this.forkSpecs = [
        ...(this.forkSpecs ?? []),
        { module: this.entries.scheduler, exportName: "runSchedulerFork" },
      ];
    }
    for (const [index, spec] of (this.forkSpecs ?? []).entries()) {
      const slot = newSlot("fork", index, spec);
      this.forks.push(slot);
      this.logger.info(`Starting fork process ${index}: ${spec.exportName} from ${spec.module}.`);
      this.start(slot);
    }
    if (this.options.watch) {
      this.watcher = new SourceWatcher(
        this.options.watch,
        () => this.reload("file change"),
        this.logger,
      );
      this.watcher.start();
    }
  }

  private onExit(
    slot: Slot,
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    if (slot.child !== child) return;
    slot.child = undefined;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    const pid = child.pid ?? "?";
    if (this.state === "stopping") {
      this.logger.debug(
        `${slot.kind === "worker" ? "Worker" : "Fork"} process ${slot.index} (PID ${pid}) exited with ${how}.`,
      );
      // The exit code says whether the stop was graceful: a process that did not drain makes it 1
      // (a worker killed for a blocked event loop was replaced on purpose and logged as such).
      if (code !== 0 && !slot.killedBlocked && this.exitCode === 0) {
        this.logger.warn(
          `${slot.kind === "worker" ? "Worker" : "Fork"} process ${slot.index} (PID ${pid}) exited with ${how} while stopping.`,
        );
        this.exitCode = 1;
      }
      this.checkAllStopped();
      return;
    }
    if (this.state === "booting" && slot.kind === "worker" && !slot.booted) {
      // Dies before booting without saying why: a crash in the user's code at import time.
      this.logger.error(
        `Worker process ${slot.index} (PID ${pid}) exited with ${how} before booting; stopping.`,
      );
      if (this.exitCode === 0) this.exitCode = code === 2 || code === 3 ? code : 1;
      this.stop();
      return;
    }
    if (slot.reloading) {
      if (slot.recycling)
        this.logger.info(
          `${slot.kind === "worker" ? "Worker" : "Fork"} process ${slot.index} (PID ${pid}) recycled (exited with ${how}); starting its replacement.`,
        );
      clearTimeout(slot.restartTimer);
      this.start(slot);
      return;
    }
    // A process that died on its own while running messages: each of them may be the cause.
    if (slot.kind === "worker" && !slot.killedBlocked && slot.messages.length > 0)
      this.hangs.countKills(slot.messages, `${this.label(slot)} died with ${how}`);
    if (slot.kind === "fork" && code === 0) {
      this.logger.info(`Fork process ${slot.index} (PID ${pid}) finished.`);
      return;
    }
    const lived = Date.now() - slot.startedAt;
    slot.failures = lived >= this.timings.stableAfter ? 0 : slot.failures + 1;
    const delay = Math.min(
      this.timings.maxRestartDelay,
      this.timings.restartDelay * 2 ** Math.max(0, slot.failures - 1),
    );
    const why = slot.killedBlocked
      ? "was killed for blocking its event loop past its time limit"
      : `died with ${how}`;
    this.logger.error(
      `${slot.kind === "worker" ? "Worker" : "Fork"} process ${slot.index} (PID ${pid}) ${why}; restarting it in ${delay} ms.`,
    );
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (this.state !== "stopping") this.start(slot);
    }, delay);
  }

  /** Asks a process to stop gracefully over IPC (not a signal: see `SupervisorCommand`), or with TERM when its channel is gone. */
  private stopChild(child: ChildProcess, timeout?: number): void {
    if (!sendCommand(child, { type: "stop", timeout })) child.kill("SIGTERM");
  }

  private onStopSignal(signal: NodeJS.Signals): void {
    this.signals++;
    if (this.signals === 1) {
      this.logger.info(
        `Received ${signal}: stopping gracefully (send it again to kill the workers).`,
      );
      this.stop();
    } else {
      this.logger.warn(`Received ${signal} again: killing the worker processes.`);
      this.kill();
    }
  }

  /** Stops every process gracefully: TERM, then SIGKILL past the shutdown timeout. */
  private stop(): void {
    if (this.state === "stopping") return;
    this.state = "stopping";
    this.watcher?.close();
    for (const slot of [...this.workers, ...this.forks]) {
      clearTimeout(slot.restartTimer);
      if (slot.child) this.stopChild(slot.child);
    }
    this.hardStop = setTimeout(() => {
      this.logger.error(
        `Worker processes still running ${this.options.workerShutdownTimeout + this.timings.shutdownGrace} ms after TERM: killing them.`,
      );
      this.kill();
    }, this.options.workerShutdownTimeout + this.timings.shutdownGrace);
    this.hardStop.unref();
    this.checkAllStopped();
  }

  private kill(): void {
    this.state = "stopping";
    this.exitCode = 1;
    for (const slot of [...this.workers, ...this.forks]) {
      clearTimeout(slot.restartTimer);
      slot.child?.kill("SIGKILL");
    }
    this.checkAllStopped();
  }

  private checkAllStopped(): void {
    if ([...this.workers, ...this.forks].some((slot) => slot.child)) return;
    clearInterval(this.monitor);
    clearTimeout(this.hardStop);
    this.logger.info(
      this.exitCode === 0
        ? "All processes stopped."
        : `All processes stopped (exit code ${this.exitCode}).`,
    );
    this.finish(this.exitCode);
  }

  /** Reloads the workers (and forks): each stops gracefully and a fresh process takes its place. */
  reload(reason: string): void {
    if (this.state !== "running") {
      this.logger.warn(`Ignoring reload (${reason}) while ${this.state}.`);
      return;
    }
    this.logger.info(`Reloading the worker processes (${reason}).`);
    for (const slot of [...this.workers, ...this.forks]) {
      if (!slot.child) continue;
      slot.reloading = true;
      this.stopChild(slot.child);
    }
  }
}

function dedupe(specs: readonly ForkSpec[]): ForkSpec[] {
  const seen = new Map<string, ForkSpec>();
  for (const spec of specs)
    seen.set(`${spec.module}#${spec.exportName}`, {
      module: spec.module,
      exportName: spec.exportName,
    });
  return [...seen.values()];
}
