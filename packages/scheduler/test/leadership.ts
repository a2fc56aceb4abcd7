// The leadership scenario shared by the Redis and RabbitMQ tests: three `dq-scheduler` processes,
// a */5 s schedule, the leader SIGKILLed mid-run; then every slot must have fired exactly once.
import { expect } from "@jest/globals";
import { waitFor } from "@dq/core/testing";
import { fixture, SchedulerProcess } from "./scheduler-process.js";

export interface LeadershipRun {
  /** Slots fired (ISO), one entry per message found on the queue. */
  fired: string[];
  takeoverMs: number;
  firstLeaderAt: number;
  stoppedAt: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs three schedulers for `durationMs`, SIGKILLs the leader at `killAtMs`, stops the others with
 * SIGTERM, and returns what `collect` finds on the queue.
 */
export async function runLeadership(
  env: Record<string, string>,
  durationMs: number,
  killAtMs: number,
  collect: () => Promise<string[]>,
): Promise<LeadershipRun> {
  const processes = [0, 1, 2].map(() => new SchedulerProcess([fixture("schedules.mjs")], env));
  try {
    await waitFor(() => processes.some((p) => p.ledAt.length > 0), "a leader", 30_000);
    const firstLeaderAt = Date.now();
    await sleep(killAtMs);
    const leaders = processes.filter((p) => p.leading);
    expect(leaders).toHaveLength(1);
    const leader = leaders[0]!;
    leader.child.kill("SIGKILL");
    const killedAt = Date.now();
    const others = processes.filter((p) => p !== leader);
    await waitFor(() => others.some((p) => p.ledAt.length > 0), "a new leader", 30_000);
    const takeoverMs = Math.min(...others.flatMap((p) => p.ledAt)) - killedAt;
    await sleep(Math.max(0, durationMs - killAtMs - takeoverMs));
    const stoppedAt = Date.now();
    for (const p of others) p.child.kill("SIGTERM");
    const exits = await Promise.all(others.map((p) => p.exited));
    expect(exits.map((exit) => exit.code)).toEqual([0, 0]);
    // Let a fired message's enqueue land.
    await sleep(500);
    return { fired: await collect(), takeoverMs, firstLeaderAt, stoppedAt };
  } finally {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill("SIGKILL");
    await Promise.all(processes.map((p) => p.exited));
  }
}

/** Checks that the slots form an unbroken run of 5 s slots, each exactly once, covering the run. */
export function expectEverySlotOnce(run: LeadershipRun): void {
  const counts = new Map<string, number>();
  for (const slot of run.fired) counts.set(slot, (counts.get(slot) ?? 0) + 1);
  const doubled = [...counts].filter(([, count]) => count > 1);
  expect(doubled).toEqual([]);
  const slots = [...counts.keys()].map(Date.parse).sort((a, b) => a - b);
  expect(slots.length).toBeGreaterThan(0);
  const gaps = slots.slice(1).filter((slot, index) => slot - slots[index]! !== 5000);
  expect(gaps.map((slot) => new Date(slot).toISOString())).toEqual([]);
  // The run is covered from the first leader's first slot to the stop.
  expect(slots[0]!).toBeLessThanOrEqual(run.firstLeaderAt + 5000);
  expect(slots.at(-1)!).toBeGreaterThanOrEqual(run.stoppedAt - 5000 - 1000);
}
