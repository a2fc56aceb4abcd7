import { setCurrentClock, type TimerClock } from "../clock.js";
import { Heap } from "../heap.js";

interface FakeTimer {
  at: number;
  sequence: number;
  callback: () => void;
  /** Cleared or fired. */
  done: boolean;
}

/** Lets the promises that the fired timers resolved run, and a turn of real I/O. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A clock for tests whose time moves only when told: `advance(ms)` fires the timers that fall due
 * in order, and `autoAdvance()` jumps to the next timer whenever the process is otherwise idle, so
 * that a test of delays, backoffs and timeouts runs without sleeping. Pass it as a broker's
 * `clock`, and `install()` it to make it the clock core reads elsewhere (message timestamps,
 * result waits, `sleep`).
 */
export class FakeClock implements TimerClock {
  private time: number;
  private sequence = 0;
  private live = 0;
  private readonly timers = new Heap<FakeTimer>(
    (a, b) => a.at < b.at || (a.at === b.at && a.sequence < b.sequence),
  );

  /** @param start - the time to start at, in UNIX ms (default the system's now) */
  constructor(start: number = Date.now()) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer: FakeTimer = {
      at: this.time + Math.max(0, ms),
      sequence: this.sequence++,
      callback,
      done: false,
    };
    this.timers.push(timer);
    this.live++;
    return timer;
  }

  clearTimeout(timer: unknown): void {
    if (!timer || typeof timer !== "object" || !("done" in timer) || (timer as FakeTimer).done)
      return;
    (timer as FakeTimer).done = true;
    this.live--;
  }

  /** Timers set and neither fired nor cleared. */
  get pending(): number {
    return this.live;
  }

  /** Moves time forward by `ms`, firing each timer that falls due at its own time, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      this.dropCleared();
      const next = this.timers.peek();
      if (!next || next.at > target) break;
      this.fireNext();
      await turn();
    }
    this.time = Math.max(this.time, target);
    await turn();
  }

  /**
   * Runs the clock by itself: on each turn of the event loop that finds a timer set, time jumps to
   * the earliest and fires it. Time never jumps past a timer, so what a test measures with `now()`
   * is what the timers asked for.
   * @returns a function that stops it
   */
  autoAdvance(): () => void {
    let running = true;
    const step = () => {
      if (!running) return;
      if (this.pending > 0) {
        this.fireNext();
        setImmediate(step);
      } else {
        setTimeout(step, 1);
      }
    };
    setImmediate(step);
    return () => void (running = false);
  }

  /**
   * Makes this the clock core reads where no broker's clock applies.
   * @returns a function that puts the system clock back
   */
  install(): () => void {
    setCurrentClock(this);
    return () => setCurrentClock();
  }

  private fireNext(): void {
    this.dropCleared();
    const timer = this.timers.pop()!;
    timer.done = true;
    this.live--;
    this.time = Math.max(this.time, timer.at);
    timer.callback();
  }

  private dropCleared(): void {
    while (this.timers.peek()?.done) this.timers.pop();
  }
}
