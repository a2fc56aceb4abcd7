const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * Deadlines that are usually met early, served by one timer: an idle consumer's waits for its
 * next message, the time limits of running messages. `onDue(key)` runs for each key still set when
 * its deadline passes. The timer stays armed when keys are deleted before their deadline and is
 * only re-armed when a new deadline needs it sooner; firing early, it re-arms for the rest. (A
 * timer created and cleared per message costs an idle worker ~8 µs: Node drops and rebuilds a
 * timer list each time.) Deadlines are on the monotonic clock.
 */
export class Deadlines<K> {
  private readonly due = new Map<K, number>();
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires, in `performance.now()` ms (Infinity when not armed). */
  private at = Infinity;

  /** @param unref - do not keep the process alive for the timer */
  constructor(
    private readonly onDue: (key: K) => void,
    private readonly unref = false,
  ) {}

  /** Keys whose deadline has not passed yet. */
  get size(): number {
    return this.due.size;
  }

  /** Runs `onDue(key)` in `ms` unless the key is deleted first (a key set again moves). */
  set(key: K, ms: number): void {
    const at = performance.now() + ms;
    this.due.set(key, at);
    this.arm(at);
  }

  /** @returns whether the key was set */
  delete(key: K): boolean {
    return this.due.delete(key);
  }

  /** Deletes every key and @returns them, in the order they were set. */
  take(): K[] {
    const keys = [...this.due.keys()];
    this.due.clear();
    return keys;
  }

  /** Deletes every key and disarms the timer. */
  cancel(): void {
    this.due.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.at = Infinity;
  }

  private arm(at: number): void {
    if (this.at <= at) return;
    clearTimeout(this.timer);
    this.at = at;
    // Node fires longer timeouts at once: capped, the timer re-arms for the rest.
    this.timer = setTimeout(this.fire, Math.min(Math.max(0, at - performance.now()), MAX_TIMEOUT));
    if (this.unref) this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.at = Infinity;
    const now = performance.now();
    let next = Infinity;
    let ready: [K, number][] | undefined;
    for (const [key, at] of this.due) {
      if (at <= now) (ready ??= []).push([key, at]);
      else if (at < next) next = at;
    }
    if (ready) {
      // Earliest first, whatever order the keys were set in (a late timer finds several due).
      if (ready.length > 1) ready.sort((a, b) => a[1] - b[1]);
      for (const [key, at] of ready) {
        // Skipped when an earlier onDue deleted or moved it.
        if (this.due.get(key) !== at) continue;
        this.due.delete(key);
        this.onDue(key);
      }
    }
    if (next < Infinity) this.arm(next);
  };
}
