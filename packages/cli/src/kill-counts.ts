import type { RunningMessage } from "./ipc.js";

/** How many message ids the supervisor remembers (the oldest are forgotten first). */
const CAPACITY = 1000;

/**
 * Per message id, how many worker processes its processing killed (blocked event loop), replaced
 * (a timed-out invocation that does not settle) or crashed with. Kept by the supervisor for the
 * whole run and sent to every worker process, which dead-letters a message at the bound and runs
 * a suspect alone.
 */
export class KillCounts {
  private readonly counts = new Map<string, number>();

  /** Counts one kill against each id. @returns the ids with their new counts */
  add(ids: readonly string[]): { id: string; count: number }[] {
    return ids.map((id) => {
      const count = (this.counts.get(id) ?? 0) + 1;
      // Re-inserted: most recent last, so that the oldest entry is the one dropped.
      this.counts.delete(id);
      this.counts.set(id, count);
      if (this.counts.size > CAPACITY) this.counts.delete(this.counts.keys().next().value!);
      return { id, count };
    });
  }

  /** The counts as a plain object, for IPC and a worker's boot config. */
  toRecord(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

/** The running messages whose time-limit deadline (plus `margin` ms) has passed at `now`. */
export function pastDeadline(
  messages: readonly RunningMessage[],
  now: number,
  margin = 0,
): RunningMessage[] {
  return messages.filter(
    (message) => message.deadline !== null && message.deadline + margin <= now,
  );
}
