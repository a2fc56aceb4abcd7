import type { StoredDefinition } from "./spec.js";

/** What the scheduler keeps per schedule (times in UNIX ms). */
export interface ScheduleRecord {
  /** The latest slot dealt with (fired, skipped or paused past). */
  lastSlot?: number;
  /** When the latest message was fired. */
  lastRun?: number;
  /** The next slot. */
  nextRun?: number;
  /** `"enqueued"` after a fire, `"failed: ..."` when enqueueing failed, or a worker's outcome. */
  lastOutcome?: string;
  /** Paused at run time. */
  paused?: boolean;
  /** A stored edit of the schedule. */
  definition?: StoredDefinition;
}

/**
 * Leadership and state for a Scheduler. Two come with this package: `RedisSchedulerStore` (a
 * lease, a per-slot fire guard and a hash per schedule) and `RabbitmqSchedulerStore` (a
 * single-active-consumer queue for leadership and a last-value queue for state).
 */
export interface SchedulerStore {
  /** Takes or renews leadership for `ttlMs`. @returns whether `owner` leads now */
  lead(owner: string, ttlMs: number): Promise<boolean>;
  /** Gives leadership up (on stop), when `owner` holds it. */
  resign(owner: string): Promise<void>;
  /**
   * Claims one slot of one schedule for firing. @returns false when another leader already did
   * (the guard against two leaders in a split moment)
   */
  claim(name: string, slot: number): Promise<boolean>;
  /** The records of these schedules (missing ones are empty). */
  read(names: readonly string[]): Promise<Map<string, ScheduleRecord>>;
  /** Merges fields into a schedule's record. `definition: undefined` is left as it is. */
  write(name: string, fields: ScheduleRecord): Promise<void>;
  /** Stores or (with undefined) deletes a schedule's stored definition. */
  define(name: string, definition: StoredDefinition | undefined): Promise<void>;
  /** Sets or clears the paused flag (may be called by any process, leader or not). */
  setPaused(name: string, paused: boolean): Promise<void>;
  /** Closes what the store opened. */
  close(): Promise<void>;
}
