import { computeBackoff, Deadlines } from "@dq/core/adapter";

/**
 * What a consumer's loop waits for: `remote` (the queue looked empty: a wake-up, a hand-off or
 * the backoff) or `local` (the window is full: an ack, nack or requeue of this process).
 */
export type WaitKind = "remote" | "local";

/**
 * The waits of a `RedisConsumer`'s loop and the wake-ups that end them. A wake-up that comes
 * before its wait is remembered until `clear`, so the wait returns at once; a local wake-up also
 * ends a remote wait. Idle waits follow Dramatiq's backoff over consecutive empty polls.
 */
export class ConsumerWaits {
  private remoteWake = false;
  private localWake = false;
  private waitingFor: WaitKind | undefined;
  private resolveWait: (() => void) | undefined;
  /** The wait's deadline: a wake-up ends most waits first, and the next one reuses the timer. */
  private readonly deadline = new Deadlines<() => void>((end) => end());
  /** Consecutive waits for Redis without a message (Dramatiq's backoff). */
  private misses = 0;

  /** @param closed - whether the consumer is closed: a closed consumer's waits return at once */
  constructor(private readonly closed: () => boolean) {}

  /** The kind of the wait in progress, if any. */
  get waiting(): WaitKind | undefined {
    return this.waitingFor;
  }

  /** Forgets an earlier wake-up of this kind. */
  clear(kind: WaitKind): void {
    if (kind === "remote") this.remoteWake = false;
    else this.localWake = false;
  }

  /** A message arrived: the next wait for Redis starts the backoff over. */
  resetBackoff(): void {
    this.misses = 0;
  }

  /** Ends a wait of this kind (a local wake-up ends any wait), or the next one if none runs. */
  wake(kind: WaitKind): void {
    if (kind === "remote") this.remoteWake = true;
    else this.localWake = true;
    if (this.waitingFor && (kind === "local" || this.waitingFor === kind)) this.resolveWait?.();
  }

  /** Waits for Redis: the backoff's next step (at most `maxBackoff`), no more than `rest` ms. */
  idle(rest: number, maxBackoff: number): Promise<void> {
    const [misses, backoff] = computeBackoff(this.misses, { maxBackoff });
    this.misses = misses;
    return this.wait("remote", Math.min(backoff, rest));
  }

  /** Waits `ms` ms at most for a wake-up of this kind (at once after one since `clear`). */
  wait(kind: WaitKind, ms: number): Promise<void> {
    if (this.closed() || (kind === "remote" ? this.remoteWake : this.localWake))
      return Promise.resolve();
    return new Promise((resolve) => {
      const end = () => {
        this.deadline.delete(end);
        this.waitingFor = undefined;
        this.resolveWait = undefined;
        resolve();
      };
      this.waitingFor = kind;
      this.resolveWait = end;
      this.deadline.set(end, ms);
    });
  }

  /** Ends the wait in progress and stops the timer (the consumer closes). */
  cancel(): void {
    this.resolveWait?.();
    this.deadline.cancel();
  }
}
