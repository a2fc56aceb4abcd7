import type { ChildProcess } from "node:child_process";
import type { Logger } from "@dq/core";
import type { CliOptions } from "./args.js";
import type { RunningMessage, SupervisorCommand } from "./ipc.js";
import { pastDeadline, type KillCounts } from "./kill-counts.js";
import { sendCommand, type Slot, type SupervisorTimings } from "./slot.js";

/** What {@link HangMonitor} needs from the supervisor. */
export interface HangHost {
  readonly workers: readonly Slot[];
  readonly kills: KillCounts;
  readonly options: Pick<CliOptions, "workerShutdownTimeout" | "maxKills">;
  readonly timings: SupervisorTimings;
  readonly logger: Logger;
  /** Whether every worker booted and no stop is under way. */
  readonly running: boolean;
  label(slot: Slot): string;
  stopChild(child: ChildProcess, timeout?: number): void;
}

/**
 * Watches the worker processes' heartbeats: kills a worker whose event loop stays blocked past its
 * running message's time limit, recycles one that holds a message past it, and counts the kills
 * against the messages (telling every worker the new counts).
 */
export class HangMonitor {
  constructor(private readonly host: HangHost) {}

  /** Checks every worker process once (run on an interval). */
  check(): void {
    const { timings, logger } = this.host;
    const now = Date.now();
    for (const slot of this.host.workers) {
      const child = slot.child;
      if (!child || !slot.booted || slot.killedBlocked || slot.deadline === null) continue;
      if (now - slot.lastBeat < 3 * timings.heartbeatInterval) {
        this.checkStuck(slot, child, now);
        continue;
      }
      if (now < slot.deadline + timings.blockedMargin) continue;
      slot.killedBlocked = true;
      logger.error(
        `${this.host.label(slot)} has not answered for ${now - slot.lastBeat} ms, past the time limit of its running message by ${now - slot.deadline} ms: ` +
          `its event loop is blocked. Killing it; the broker redelivers its messages.`,
      );
      // Counted (and told to the other workers) before the kill: RabbitMQ redelivers at once.
      const culprits = pastDeadline(slot.messages, now);
      this.countKills(
        culprits.length ? culprits : slot.messages,
        `${this.host.label(slot)} blocked its event loop`,
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
    const { timings, options } = this.host;
    if (slot.recycling || slot.reloading || !this.host.running) return;
    const stuck = pastDeadline(slot.messages, now, timings.stuckGrace);
    if (stuck.length === 0) return;
    const timeout = Math.min(options.workerShutdownTimeout, timings.stuckGrace);
    this.host.logger.error(
      `${this.host.label(slot)} still runs message${stuck.length === 1 ? "" : "s"} ${stuck.map((message) => message.id).join(", ")} ` +
        `more than ${timings.stuckGrace} ms past ${stuck.length === 1 ? "its" : "their"} time limit: recycling the process (the message goes back to the queue).`,
    );
    slot.recycling = true;
    slot.reloading = true;
    this.countKills(stuck, `${this.host.label(slot)} recycled`);
    this.host.stopChild(child, timeout);
    slot.restartTimer = setTimeout(() => {
      if (slot.child === child) child.kill("SIGKILL");
    }, timeout + timings.shutdownGrace);
  }

  /** Counts a kill against each message and tells every worker process the new counts. */
  countKills(messages: readonly RunningMessage[], why: string): void {
    if (messages.length === 0) return;
    const { kills, options } = this.host;
    const counted = kills.add(messages.map((message) => message.id));
    this.host.logger.warn(
      `${why}: counting it against message${counted.length === 1 ? "" : "s"} ${counted.map(({ id, count }) => `${id} (${count} of ${options.maxKills})`).join(", ")}.`,
    );
    const command: SupervisorCommand = { type: "kills", counts: kills.toRecord() };
    for (const slot of this.host.workers) sendCommand(slot.child, command);
  }
}
