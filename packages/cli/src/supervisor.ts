import { fork, type ChildProcess } from "node:child_process";
import type { ForkSpec, Logger } from "@dq/core";
import type { CliOptions } from "./args.js";
import {
  isWorkerReport,
  type ForkConfig,
  type MetricsAddress,
  type ModuleSpec,
  type RunningMessage,
  type SupervisorCommand,
  type WorkerConfig,
  type WorkerReport,
} from "./ipc.js";
import { KillCounts, pastDeadline } from "./kill-counts.js";
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

  /**
   * @param options - the parsed command line
   * @param modules - the resolved modules every worker imports
   * @param entries - the worker and fork entry files
   */
  constructor(
    private readonly options: CliOptions,
    private readonly modules: ModuleSpec[],
    private readonly entries: { worker: string; fork: string },
    private readonly sink: LogSink,
    private readonly logger: Logger,
    private readonly timings: SupervisorTimings = DEFAULT_TIMINGS,
    private readonly metrics: MetricsAddress | undefined = undefined,
  ) {}

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
      () => this.checkHeartbeats(),
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
            modules: this.modules,
            queues: this.options.queues,
            concurrency: this.options.concurrency,
            shutdownTimeout: this.options.workerShutdownTimeout,
            heartbeatInterval: this.timings.heartbeatInterval,
            closeTimeout: this.timings.closeTimeout,
            skipLogging: this.options.skipLogging,
            metrics: this.metrics,
            maxKills: this.options.maxKills,
            kills: this.kills.toRecord(),
            inMemory: this.options.inMemory,
          }
        : { index: slot.index, fork: slot.fork!, skipLogging: this.options.skipLogging };
    // Children write their output and logs straight to the command's stdout and stderr (or the log
    // file), not through pipes to this process: they outlive it long enough to drain if it dies.
    const child = fork(
      slot.kind === "worker" ? this.entries.worker : this.entries.fork,
      [JSON.stringify(config)],
      {
        stdio: ["ignore", "inherit", this.sink.fd ?? "inherit", "ipc"],
        // Identifies the run to every child, e.g. @dq/prometheus's per-run metrics directory.
        env: { ...process.env, DQ_SUPERVISOR_PID: String(process.pid) },
      },
    );
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
      this.countKills(slot.messages, `${this.label(slot)} died with ${how}`);
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

  private checkHeartbeats(): void {
    const now = Date.now();
    for (const slot of this.workers) {
      const child = slot.child;
      if (!child || !slot.booted || slot.killedBlocked || slot.deadline === null) continue;
      if (now - slot.lastBeat < 3 * this.timings.heartbeatInterval) {
        this.checkStuck(slot, child, now);
        continue;
      }
      if (now < slot.deadline + this.timings.blockedMargin) continue;
      slot.killedBlocked = true;
      this.logger.error(
        `${this.label(slot)} has not answered for ${now - slot.lastBeat} ms, past the time limit of its running message by ${now - slot.deadline} ms: ` +
          `its event loop is blocked. Killing it; the broker redelivers its messages.`,
      );
      // Counted (and told to the other workers) before the kill: RabbitMQ redelivers at once.
      const culprits = pastDeadline(slot.messages, now);
      this.countKills(
        culprits.length ? culprits : slot.messages,
        `${this.label(slot)} blocked its event loop`,
      );
      child.kill("SIGKILL");
    }
  }

  /**
   * Recycles a worker that still answers but holds a message past its time limit plus
   * `stuckGrace` (an invocation that ignores its AbortSignal): it stops gracefully, returning the
   * message to the broker, and a fresh process takes its place.
   */
  private checkStuck(slot: Slot, child: ChildProcess, now: number): void {
    if (slot.recycling || slot.reloading || this.state !== "running") return;
    const stuck = pastDeadline(slot.messages, now, this.timings.stuckGrace);
    if (stuck.length === 0) return;
    const timeout = Math.min(this.options.workerShutdownTimeout, this.timings.stuckGrace);
    this.logger.error(
      `${this.label(slot)} still runs message${stuck.length === 1 ? "" : "s"} ${stuck.map((message) => message.id).join(", ")} ` +
        `more than ${this.timings.stuckGrace} ms past ${stuck.length === 1 ? "its" : "their"} time limit: recycling the process (the message goes back to the queue).`,
    );
    slot.recycling = true;
    slot.reloading = true;
    this.countKills(stuck, `${this.label(slot)} recycled`);
    this.stopChild(child, timeout);
    slot.restartTimer = setTimeout(() => {
      if (slot.child === child) child.kill("SIGKILL");
    }, timeout + this.timings.shutdownGrace);
  }

  /** Counts a kill against each message and tells every worker process the new counts. */
  private countKills(messages: readonly RunningMessage[], why: string): void {
    if (messages.length === 0) return;
    const counted = this.kills.add(messages.map((message) => message.id));
    this.logger.warn(
      `${why}: counting it against message${counted.length === 1 ? "" : "s"} ${counted.map(({ id, count }) => `${id} (${count} of ${this.options.maxKills})`).join(", ")}.`,
    );
    const command: SupervisorCommand = { type: "kills", counts: this.kills.toRecord() };
    for (const slot of this.workers) sendCommand(slot.child, command);
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
