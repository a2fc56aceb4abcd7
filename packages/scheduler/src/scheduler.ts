import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { getBroker, getLogger, InvalidOptionError, type Broker, type Logger } from "@dq/core";
import { systemClock, type TimerClock } from "@dq/core/adapter";
import { DuplicateScheduleError, ScheduleActorNotFound, UnknownScheduleError } from "./errors.js";
import { planFires, slotMessage } from "./firing.js";
import { globalSchedules, ScheduleRegistry } from "./registry.js";
import {
  compileSchedule,
  effectiveSpec,
  type CompiledSchedule,
  type ScheduleSpec,
  type StoredDefinition,
} from "./spec.js";
import type { ScheduleRecord, SchedulerStore } from "./store.js";
import { slotsBetween } from "./timing.js";
import type { ScheduleInfo } from "@dq/core/adapter";

export type { ScheduleInfo };

/** Options of `new Scheduler(...)`. */
export interface SchedulerOptions {
  /** Where leadership and state live: `RedisSchedulerStore` or `RabbitmqSchedulerStore`. */
  store: SchedulerStore;
  /** The broker fired messages go to (default: the global broker). */
  broker?: Broker;
  /** The leader's lease, in ms (default 10 000); renewed every third of it. */
  leaseTtlMs?: number;
  /** A slot up to this late (ms) is fired normally, past it the misfire policy decides (default 3 × leaseTtlMs). */
  misfireGraceMs?: number;
  /** At most this many slots fired per schedule in one catch-up (default 100). */
  maxCatchUp?: number;
  /** Also run the schedules declared with `schedule()` (default true). */
  useGlobalSchedules?: boolean;
  /** This process's id in the lease (default `<host>:<pid>:<random>`). */
  id?: string;
  clock?: TimerClock;
  logger?: Logger;
}

/**
 * Fires the declared schedules: any number of Schedulers may run on one store, and exactly one of
 * them (the leader) fires each slot. See the README for leadership, state and misfires.
 */
export class Scheduler {
  readonly id: string;
  private readonly registry = new ScheduleRegistry();
  private readonly store: SchedulerStore;
  private readonly clock: TimerClock;
  private readonly logger: Logger;
  private readonly leaseTtlMs: number;
  private readonly graceMs: number;
  private readonly maxCatchUp: number;
  private brokerValue: Broker | undefined;
  private started = false;
  private stopped = false;
  private leading = false;
  private startedAt = 0;
  private timer: unknown;
  private running: Promise<void> | undefined;
  private readonly overrides = new Map<string, { json: string; compiled: CompiledSchedule }>();

  constructor(private readonly options: SchedulerOptions) {
    const number = (key: "leaseTtlMs" | "misfireGraceMs" | "maxCatchUp", min: number) => {
      const value = options[key];
      if (value !== undefined && (!Number.isInteger(value) || value < min))
        throw new InvalidOptionError(
          `Scheduler: ${key} must be an integer of at least ${min} (got ${JSON.stringify(value)})`,
          { option: key, value },
        );
      return value;
    };
    this.leaseTtlMs = number("leaseTtlMs", 30) ?? 10_000;
    this.graceMs = number("misfireGraceMs", 0) ?? 3 * this.leaseTtlMs;
    this.maxCatchUp = number("maxCatchUp", 1) ?? 100;
    this.store = options.store;
    this.brokerValue = options.broker;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? getLogger("dq.Scheduler");
    this.id = options.id ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  private get broker(): Broker {
    return (this.brokerValue ??= getBroker());
  }

  /** Declares a schedule on this scheduler. @throws as `schedule()` */
  schedule(name: string, spec: ScheduleSpec): this {
    if (this.options.useGlobalSchedules !== false && globalSchedules.schedules.has(name))
      throw duplicate(name);
    this.registry.add(name, spec);
    return this;
  }

  /** The schedules this scheduler runs: its own and (unless turned off) the global ones. */
  get schedules(): ReadonlyMap<string, CompiledSchedule> {
    if (this.options.useGlobalSchedules === false) return this.registry.schedules;
    const all = new Map(this.registry.schedules);
    for (const [name, compiled] of globalSchedules.schedules) {
      if (all.has(name)) throw duplicate(name);
      all.set(name, compiled);
    }
    return all;
  }

  /** Whether this process leads (fires) now. */
  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Checks every schedule's actor, then starts taking part in leadership and firing.
   * @throws ScheduleActorNotFound naming the schedules whose actor is not declared on the broker
   */
  async start(): Promise<void> {
    if (this.started) return;
    const missing = [...this.schedules.values()]
      .filter((compiled) => !this.broker.getDeclaredActors().includes(compiled.spec.actor))
      .map(
        (compiled) => `${JSON.stringify(compiled.name)} → ${JSON.stringify(compiled.spec.actor)}`,
      );
    if (missing.length)
      throw new ScheduleActorNotFound(
        `schedule actor not declared on the broker: ${missing.join(", ")} (declared: ${this.broker.getDeclaredActors().join(", ") || "none"})`,
      );
    this.started = true;
    this.startedAt = this.clock.now();
    this.logger.info(`Scheduler ${this.id} starting with ${this.schedules.size} schedule(s).`);
    this.running = this.tick();
    await this.running;
  }

  /** Resolves when the current round (lease, then firing) is done: for tests with a fake clock. */
  async settled(): Promise<void> {
    for (let seen: Promise<void> | undefined; seen !== this.running;) {
      seen = this.running;
      await seen?.catch(() => undefined);
    }
  }

  /** Stops firing and gives leadership up (the store stays open: see `close`). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    if (this.started) await this.store.resign(this.id).catch(() => undefined);
    if (this.leading) this.logger.info(`Scheduler ${this.id} stopped and resigned leadership.`);
    this.leading = false;
  }

  /** `stop()`, then closes the store. */
  async close(): Promise<void> {
    await this.stop();
    await this.store.close();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const now = this.clock.now();
    let leading = false;
    try {
      leading = await this.store.lead(this.id, this.leaseTtlMs);
    } catch (error) {
      this.logger.error(`Scheduler ${this.id}: could not take or renew the lease.`, error);
    }
    if (this.stopped) return;
    if (leading !== this.leading)
      this.logger.info(
        `Scheduler ${this.id} ${leading ? "is now the leader" : "lost leadership"}.`,
      );
    this.leading = leading;
    let wait = leading ? Math.floor(this.leaseTtlMs / 3) : Math.floor(this.leaseTtlMs / 6);
    if (leading) {
      try {
        const next = await this.fireDue(now);
        if (next !== undefined) wait = Math.min(wait, Math.max(0, next - this.clock.now()));
      } catch (error) {
        this.logger.error(`Scheduler ${this.id}: firing failed.`, error);
      }
    }
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.running = this.tick();
    }, wait);
  }

  /** The schedule as it runs now: the code's, or a stored definition marked `override`. */
  private effective(
    base: CompiledSchedule,
    stored: StoredDefinition | undefined,
  ): CompiledSchedule {
    if (!stored?.override) return base;
    const json = JSON.stringify(stored);
    const cached = this.overrides.get(base.name);
    if (cached?.json === json) return cached.compiled;
    try {
      const compiled = compileSchedule(base.name, effectiveSpec(base.spec, stored));
      this.overrides.set(base.name, { json, compiled });
      return compiled;
    } catch (error) {
      this.logger.error(`Schedule ${base.name}: stored definition ignored.`, error);
      return base;
    }
  }

  /** Fires what is due for every schedule. @returns the earliest next slot */
  private async fireDue(now: number): Promise<number | undefined> {
    const schedules = [...this.schedules.values()];
    const records = await this.store.read(schedules.map((compiled) => compiled.name));
    let earliest: number | undefined;
    for (const base of schedules) {
      if (this.stopped) break;
      const record = records.get(base.name) ?? {};
      const next = await this.fireSchedule(this.effective(base, record.definition), record, now);
      if (next !== undefined && (earliest === undefined || next < earliest)) earliest = next;
    }
    return earliest;
  }

  private async fireSchedule(
    compiled: CompiledSchedule,
    record: ScheduleRecord,
    now: number,
  ): Promise<number | undefined> {
    const { name, spec, timing, misfire } = compiled;
    const from = record.lastSlot ?? this.startedAt;
    const nextRun = timing.next(now);
    const { slots: due, dropped } = slotsBetween(timing, from, now, this.maxCatchUp);
    if (due.length === 0) {
      if (record.lastSlot === undefined || record.nextRun !== nextRun)
        await this.store.write(name, { lastSlot: from, nextRun });
      return nextRun;
    }
    const paused = record.paused === true || spec.enabled === false;
    const { fire, missed } = planFires(due, now, this.graceMs, misfire, paused);
    if (missed > 0 && !paused)
      this.logger.warn(
        `Schedule ${name}: ${missed}${dropped ? "+" : ""} slot(s) missed; misfire policy "${misfire}" fires ${fire.length - (due.length - missed)} of them.`,
      );
    for (const slot of fire) {
      if (this.stopped || !(await this.store.claim(name, slot))) continue;
      // "enqueued" is written first: a worker's outcome (SchedulerOutcomes) may land right after.
      await this.store.write(name, { lastRun: this.clock.now(), lastOutcome: "enqueued" });
      try {
        await this.enqueue(compiled, slot);
        this.logger.debug(`Schedule ${name}: fired slot ${new Date(slot).toISOString()}.`);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        await this.store.write(name, { lastOutcome: `failed: ${reason}` });
        this.logger.error(`Schedule ${name}: could not enqueue slot ${slot}.`, error);
      }
      await this.store.write(name, { lastSlot: slot, nextRun });
    }
    await this.store.write(name, { lastSlot: due.at(-1)!, nextRun });
    return nextRun;
  }

  private async enqueue(compiled: CompiledSchedule, slot: number): Promise<void> {
    const { message, delay } = slotMessage(this.broker, compiled, slot);
    await this.broker.enqueue(message, delay > 0 ? { delay } : {});
  }

  private compiled(name: string): CompiledSchedule {
    const compiled = this.schedules.get(name);
    if (!compiled)
      throw new UnknownScheduleError(`no schedule named ${JSON.stringify(name)} is declared`, {
        option: "name",
        value: name,
      });
    return compiled;
  }

  /** The schedules with their state, as the dashboard shows them. */
  async list(): Promise<ScheduleInfo[]> {
    const schedules = [...this.schedules.values()];
    const records = await this.store.read(schedules.map((compiled) => compiled.name));
    const now = this.clock.now();
    return schedules.map((base) => {
      const record = records.get(base.name) ?? {};
      const { name, spec, timing } = this.effective(base, record.definition);
      const info: ScheduleInfo = {
        name,
        actor: spec.actor,
        enabled: spec.enabled !== false,
        paused: record.paused ?? false,
      };
      if (spec.cron !== undefined) info.cron = spec.cron;
      if (spec.everyMs !== undefined) info.everyMs = spec.everyMs;
      if (spec.tz !== undefined) info.tz = spec.tz;
      const nextRun = timing.next(now);
      if (nextRun !== undefined) info.nextRun = nextRun;
      if (record.lastRun !== undefined) info.lastRun = record.lastRun;
      if (record.lastOutcome !== undefined) info.lastOutcome = record.lastOutcome;
      return info;
    });
  }

  /** Pauses a schedule at run time, in the store (every scheduler sees it). @throws UnknownScheduleError */
  async pause(name: string): Promise<void> {
    this.compiled(name);
    await this.store.setPaused(name, true);
  }

  /** Resumes a paused schedule; the slots passed while paused are not caught up. @throws UnknownScheduleError */
  async resume(name: string): Promise<void> {
    this.compiled(name);
    await this.store.setPaused(name, false);
  }

  /**
   * Stores a run-time edit of a schedule, marked `override: true` so that it wins over the code.
   * @throws UnknownScheduleError; InvalidCronError, InvalidTimeZoneError, InvalidOptionError for a bad edit
   */
  async edit(name: string, changes: Omit<StoredDefinition, "override">): Promise<void> {
    const base = this.compiled(name);
    const definition: StoredDefinition = { ...changes, override: true };
    compileSchedule(name, effectiveSpec(base.spec, definition));
    if (changes.actor !== undefined && !this.broker.getDeclaredActors().includes(changes.actor))
      throw new ScheduleActorNotFound(
        `schedule ${JSON.stringify(name)}: actor ${JSON.stringify(changes.actor)} is not declared on the broker`,
      );
    await this.store.define(name, definition);
  }

  /** Drops a schedule's stored edit: the code's spec applies again. @throws UnknownScheduleError */
  async revert(name: string): Promise<void> {
    this.compiled(name);
    await this.store.define(name, undefined);
  }
}

function duplicate(name: string): DuplicateScheduleError {
  return new DuplicateScheduleError(
    `a schedule named ${JSON.stringify(name)} is already declared (schedule names must be unique)`,
    { option: "name", value: name },
  );
}
