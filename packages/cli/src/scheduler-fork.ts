// The fork that `dq --scheduler` runs: imports the user's modules as a worker does (the broker,
// the actors, the schedules declared with @dq/scheduler's `schedule()`), then runs one Scheduler.
// The fork process calls `close()` on what this returns when the command stops.
import { getBrokerAsync, isImplicitBroker } from "@dq/core";
import { loadBrokerAdapter, resolveInstalled } from "./adapters.js";
import type { ModuleSpec } from "./ipc.js";
import { loadModules } from "./modules.js";

interface SchedulerPackage {
  runScheduler(): Promise<{ close(): Promise<void> }>;
}

/**
 * Runs a Scheduler for the modules in `DQ_SCHEDULER_MODULES` (set by the supervisor).
 * @returns the running scheduler, which the fork process closes on stop
 * @throws Error when @dq/scheduler is missing or no broker is configured; the scheduler's own
 * errors (e.g. ScheduleActorNotFound) as they are
 */
export async function runSchedulerFork(): Promise<{ close(): Promise<void> }> {
  const modules = JSON.parse(process.env.DQ_SCHEDULER_MODULES ?? "[]") as ModuleSpec[];
  await loadBrokerAdapter(modules);
  await loadModules(modules);
  const url = resolveInstalled("@dq/scheduler", modules);
  if (!url) throw new Error("--scheduler needs the @dq/scheduler package");
  const scheduler = (await import(url)) as SchedulerPackage;
  await getBrokerAsync();
  if (isImplicitBroker())
    throw new Error("--scheduler: no broker is configured (set DQ_BROKER_URL or export one)");
  return scheduler.runScheduler();
}
