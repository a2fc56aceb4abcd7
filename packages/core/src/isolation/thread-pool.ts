/**
 * The worker threads a `Worker` runs its isolated actors in: created when first needed, reused,
 * one message per thread at a time. An interrupted message's thread is terminated once the
 * interrupt's grace is over, which stops even code that never yields.
 */
import { Worker as Thread, type ResourceLimits } from "node:worker_threads";
import type { Actor } from "../actor.js";
import type { MessageProxy } from "../consumer.js";
import { IsolationError, ThreadCrashed } from "../errors.js";
import type { Logger } from "../logger.js";
import { threadEntryUrl, threadPreloads, type ActorIsolation } from "./declaration.js";
import { deserializeError, serializeError, type FromThread, type ToThread } from "./protocol.js";
import { THREAD_MARKER } from "./thread-registry.js";

/** Settings of the threads that run isolated actors (the `isolation` option of `Worker`). */
export interface IsolationOptions {
  /** Memory limits of each thread; a thread exceeding them dies and fails only its message. */
  resourceLimits?: ResourceLimits;
  /**
   * Node options of the threads (default: the process's own, so `--import tsx` carries over).
   */
  execArgv?: string[];
}

interface Job {
  readonly id: number;
  readonly proxy: MessageProxy;
  readonly request: Extract<ToThread, { type: "run" }>;
  slot: Slot | undefined;
  timer: NodeJS.Timeout | undefined;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  cleanup(): void;
}

interface Slot {
  readonly thread: Thread;
  job: Job | undefined;
  dead: boolean;
}

/**
 * @returns the grace an interrupt gives an isolated actor before its thread is terminated, in ms:
 *   the message's `interruptGrace` (`message.interrupt(reason, { grace })`), else the reason's
 *   `grace` property, else none
 */
function graceOf(proxy: MessageProxy, reason: unknown): number {
  const given = (proxy as { interruptGrace?: unknown }).interruptGrace;
  const grace = given ?? (reason as { grace?: unknown } | null)?.grace;
  return typeof grace === "number" && grace > 0 ? grace : 0;
}

/** Runs isolated actors' messages in up to `size` worker threads. */
export class ThreadPool {
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly waiting: Job[] = [];
  private nextId = 1;
  private closed = false;
  private readonly entry = threadEntryUrl();

  constructor(
    readonly size: number,
    private readonly options: IsolationOptions,
    private readonly logger: Logger,
  ) {}

  /** Threads alive now (busy or idle). */
  get threadCount(): number {
    return this.slots.size;
  }

  /**
   * Runs a message of an isolated actor in a thread.
   * @param current - whether `CurrentMessage` exposes the message in the thread
   * @returns the actor's result; rejects with its error, with the interrupt that terminated its
   *   thread, or with `ThreadCrashed`
   */
  run(actor: Actor, proxy: MessageProxy, current: boolean): Promise<unknown> {
    const isolation = actor.isolation as ActorIsolation;
    if (this.closed) {
      return Promise.reject(new IsolationError(`the worker stopped; ${proxy.messageId} not run`));
    }
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const signal = proxy.signal;
      const onAbort = () => this.interrupt(job, signal.reason as Error);
      const job: Job = {
        id,
        proxy,
        request: {
          type: "run",
          id,
          module: isolation.module,
          actorName: actor.actorName,
          message: proxy.asDict(),
          current,
        },
        slot: undefined,
        timer: undefined,
        resolve,
        reject,
        cleanup: () => {
          signal.removeEventListener("abort", onAbort);
          clearTimeout(job.timer);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      if (signal.aborted) return this.settle(job, false, signal.reason);
      this.waiting.push(job);
      this.dispatch();
    });
  }

  /** Terminates every thread; messages still running in them fail with `ThreadCrashed`. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) {
      this.settle(
        job,
        false,
        new IsolationError(`the worker stopped; ${job.proxy.messageId} not run`),
      );
    }
    const slots = [...this.slots];
    this.slots.clear();
    this.idle.length = 0;
    await Promise.all(
      slots.map((slot) => {
        slot.dead = true;
        if (slot.job) {
          const error = new ThreadCrashed(
            `the worker stopped while message ${slot.job.proxy.messageId} ran`,
          );
          this.settle(slot.job, false, error);
        }
        return slot.thread.terminate();
      }),
    );
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      const slot = this.idle.pop() ?? (this.slots.size < this.size ? this.spawn() : undefined);
      if (!slot) return;
      const job = this.waiting.shift()!;
      slot.job = job;
      job.slot = slot;
      try {
        slot.thread.postMessage(job.request);
      } catch (error) {
        // Arguments structured clone cannot carry (only possible with a custom encoder).
        this.settle(job, false, error);
      }
    }
  }

  private spawn(): Slot {
    const thread = new Thread(this.entry, {
      workerData: {
        [THREAD_MARKER]: true,
        preloads: threadPreloads().map((preload) => preload.url),
      },
      resourceLimits: this.options.resourceLimits,
      execArgv: this.options.execArgv,
    });
    thread.unref();
    const slot: Slot = { thread, job: undefined, dead: false };
    this.slots.add(slot);
    thread.on("message", (reply: FromThread) => {
      const job = slot.job;
      if (slot.dead || !job || job.id !== reply.id) return;
      if (reply.ok) this.settle(job, true, reply.value);
      else this.settle(job, false, deserializeError(reply.error));
    });
    thread.on("error", (error) => this.crashed(slot, error));
    thread.on("exit", (code) =>
      this.crashed(slot, new Error(`the thread exited with code ${code}`)),
    );
    return slot;
  }

  /** Settles a job; its thread, when alive, takes the next one. */
  private settle(job: Job, ok: boolean, outcome: unknown): void {
    job.cleanup();
    const slot = job.slot;
    job.slot = undefined;
    const waitingAt = this.waiting.indexOf(job);
    if (waitingAt >= 0) this.waiting.splice(waitingAt, 1);
    if (slot && slot.job === job) {
      slot.job = undefined;
      if (!slot.dead && !this.closed) this.idle.push(slot);
    }
    if (ok) job.resolve(outcome);
    else job.reject(outcome);
    if (!this.closed) this.dispatch();
  }

  /** Forwards an interrupt to the thread, and terminates the thread once its grace is over. */
  private interrupt(job: Job, reason: Error): void {
    const slot = job.slot;
    if (!slot) return this.settle(job, false, reason);
    const grace = graceOf(job.proxy, reason);
    if (grace === 0) return this.kill(slot, job, reason);
    try {
      slot.thread.postMessage({ type: "abort", id: job.id, reason: serializeError(reason) });
    } catch {
      // The reason always serializes; a thread already gone is handled by its exit event.
    }
    job.timer = setTimeout(() => {
      if (slot.job === job) this.kill(slot, job, reason);
    }, grace);
  }

  private kill(slot: Slot, job: Job, reason: Error): void {
    this.logger.warn(
      `Terminating the thread of message ${job.proxy.messageId} (${job.proxy.actorName}): ${reason.name}: ${reason.message}`,
    );
    this.discard(slot);
    void slot.thread.terminate();
    this.settle(job, false, reason);
    // A fresh thread replaces it at once, so the next message does not wait for one to start.
    if (!this.closed && this.slots.size < this.size) this.idle.push(this.spawn());
  }

  private crashed(slot: Slot, error: Error): void {
    if (slot.dead) return;
    this.discard(slot);
    const job = slot.job;
    if (!job) {
      this.logger.warn(`An idle isolation thread died: ${error.message}`);
      return;
    }
    const crash = new ThreadCrashed(
      `the worker thread running message ${job.proxy.messageId} (${job.proxy.actorName}) died: ${error.message}`,
      { cause: error },
    );
    this.settle(job, false, crash);
  }

  private discard(slot: Slot): void {
    slot.dead = true;
    this.slots.delete(slot);
    const at = this.idle.indexOf(slot);
    if (at >= 0) this.idle.splice(at, 1);
  }
}
