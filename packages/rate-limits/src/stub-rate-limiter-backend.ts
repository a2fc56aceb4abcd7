import { RateLimiterBackend, systemClock, type Clock } from "@dq/core/adapter";

interface Entry {
  value: number;
  expiresAt: number;
}

/**
 * An in-memory backend for tests and single-process use, with the Redis backend's semantics
 * (bounded incr/decr that write nothing when they fail, events that stay published until their
 * TTL). Expiry reads the injected clock, so tests can move time instead of sleeping.
 */
export class StubRateLimiterBackend extends RateLimiterBackend {
  private readonly clock: Clock;
  private readonly counters = new Map<string, Entry>();
  private readonly strings = new Map<string, { value: string; expiresAt: number }>();
  private readonly events = new Map<string, number>();
  private readonly waiters = new Map<string, Set<(value: boolean) => void>>();

  constructor(options: { clock?: Clock } = {}) {
    super();
    this.clock = options.clock ?? systemClock;
  }

  /** The live counters, for inspection in tests: key → value. */
  snapshot(): Map<string, number> {
    const now = this.clock.now();
    const live = new Map<string, number>();
    for (const [key, entry] of this.counters) if (entry.expiresAt > now) live.set(key, entry.value);
    return live;
  }

  private read(key: string): number {
    const entry = this.counters.get(key);
    if (!entry) return 0;
    if (entry.expiresAt <= this.clock.now()) {
      this.counters.delete(key);
      return 0;
    }
    return entry.value;
  }

  private write(key: string, value: number, ttl: number): void {
    this.counters.set(key, { value, expiresAt: this.clock.now() + ttl });
  }

  override async add(key: string, value: number, ttl: number): Promise<boolean> {
    this.read(key);
    if (this.counters.has(key)) return false;
    this.write(key, value, ttl);
    return true;
  }

  override async incr(key: string, amount: number, maximum: number, ttl: number): Promise<boolean> {
    const value = this.read(key) + amount;
    if (value > maximum) return false;
    this.write(key, value, ttl);
    return true;
  }

  override async decr(key: string, amount: number, minimum: number, ttl: number): Promise<boolean> {
    const value = this.read(key) - amount;
    if (value < minimum) return false;
    this.write(key, value, ttl);
    return true;
  }

  override async incrAndSum(
    key: string,
    keys: () => string[],
    amount: number,
    maximum: number,
    ttl: number,
  ): Promise<boolean> {
    const value = this.read(key) + amount;
    if (value > maximum) return false;
    const total = keys().reduce((sum, k) => sum + this.read(k), amount);
    if (total > maximum) return false;
    this.write(key, value, ttl);
    return true;
  }

  override async getValue(key: string): Promise<string | undefined> {
    return this.readString(key);
  }

  // Synchronous, so that each compare-and-write below is atomic.
  private readString(key: string): string | undefined {
    const entry = this.strings.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > this.clock.now()) return entry.value;
    this.strings.delete(key);
    return undefined;
  }

  override async setValue(key: string, value: string, ttl: number): Promise<void> {
    this.strings.set(key, { value, expiresAt: this.clock.now() + ttl });
  }

  override async addValue(key: string, value: string, ttl: number): Promise<boolean> {
    if (this.readString(key) !== undefined) return false;
    this.strings.set(key, { value, expiresAt: this.clock.now() + ttl });
    return true;
  }

  override async compareAndSet(
    key: string,
    expected: string,
    value: string,
    ttl: number,
  ): Promise<boolean> {
    if (this.readString(key) !== expected) return false;
    this.strings.set(key, { value, expiresAt: this.clock.now() + ttl });
    return true;
  }

  override async compareAndDelete(key: string, expected: string): Promise<boolean> {
    if (this.readString(key) !== expected) return false;
    return this.strings.delete(key);
  }

  override async wait(key: string, timeout: number | undefined): Promise<boolean> {
    if (this.published(key)) return true;
    if (timeout !== undefined && timeout <= 0) return false;
    return new Promise<boolean>((resolve) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      const waiters = set;
      let timer: NodeJS.Timeout | undefined;
      const done = (value: boolean) => {
        if (timer) clearTimeout(timer);
        waiters.delete(done);
        if (!waiters.size) this.waiters.delete(key);
        resolve(value);
      };
      waiters.add(done);
      if (timeout !== undefined) timer = setTimeout(() => done(false), timeout);
    });
  }

  override async waitNotify(key: string, ttl: number): Promise<void> {
    this.events.set(key, this.clock.now() + ttl);
    for (const done of [...(this.waiters.get(key) ?? [])]) done(true);
  }

  private published(key: string): boolean {
    const expiresAt = this.events.get(key);
    if (expiresAt === undefined) return false;
    if (expiresAt > this.clock.now()) return true;
    this.events.delete(key);
    return false;
  }

  /** Wakes every waiter with false and forgets all state. */
  override async close(): Promise<void> {
    for (const waiters of [...this.waiters.values()]) for (const done of [...waiters]) done(false);
    this.counters.clear();
    this.strings.clear();
    this.events.clear();
  }
}
