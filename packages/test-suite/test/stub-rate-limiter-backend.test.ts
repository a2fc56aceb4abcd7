import { defineRateLimiterBackendTests, type RateLimiterBackendLike } from "../src/index.js";

// A minimal in-memory backend written against the contract alone: it proves the suite passes for a
// correct backend without making @dq/test-suite depend on @dq/rate-limits (which runs the suite
// against its real stub, Redis and Memcached backends).
class ReferenceBackend implements RateLimiterBackendLike {
  private readonly values: Map<string, { value: number; expiresAt: number }>;
  private readonly events: Map<string, number>;
  private readonly waiters: Map<string, Set<() => void>>;
  private readonly strings: Map<string, { value: string; expiresAt: number }>;

  constructor(shared: {
    values: Map<string, { value: number; expiresAt: number }>;
    events: Map<string, number>;
    waiters: Map<string, Set<() => void>>;
    strings: Map<string, { value: string; expiresAt: number }>;
  }) {
    this.strings = shared.strings;
    this.values = shared.values;
    this.events = shared.events;
    this.waiters = shared.waiters;
  }

  private read(key: string): number {
    const entry = this.values.get(key);
    if (!entry || entry.expiresAt <= Date.now()) {
      this.values.delete(key);
      return 0;
    }
    return entry.value;
  }

  async add(key: string, value: number, ttl: number) {
    this.read(key);
    if (this.values.has(key)) return false;
    this.values.set(key, { value, expiresAt: Date.now() + ttl });
    return true;
  }
  async incr(key: string, amount: number, maximum: number, ttl: number) {
    const value = this.read(key) + amount;
    if (value > maximum) return false;
    this.values.set(key, { value, expiresAt: Date.now() + ttl });
    return true;
  }
  async decr(key: string, amount: number, minimum: number, ttl: number) {
    const value = this.read(key) - amount;
    if (value < minimum) return false;
    this.values.set(key, { value, expiresAt: Date.now() + ttl });
    return true;
  }
  async incrAndSum(
    key: string,
    keys: () => string[],
    amount: number,
    maximum: number,
    ttl: number,
  ) {
    const value = this.read(key) + amount;
    if (value > maximum || keys().reduce((sum, k) => sum + this.read(k), amount) > maximum)
      return false;
    this.values.set(key, { value, expiresAt: Date.now() + ttl });
    return true;
  }
  async wait(key: string, timeout: number | undefined) {
    if ((this.events.get(key) ?? 0) > Date.now()) return true;
    return new Promise<boolean>((resolve) => {
      const set = this.waiters.get(key) ?? new Set();
      this.waiters.set(key, set);
      const timer =
        timeout === undefined
          ? undefined
          : setTimeout(() => (set.delete(wake), resolve(false)), timeout);
      const wake = () => (clearTimeout(timer), set.delete(wake), resolve(true));
      set.add(wake);
    });
  }
  async waitNotify(key: string, ttl: number) {
    this.events.set(key, Date.now() + ttl);
    for (const wake of [...(this.waiters.get(key) ?? [])]) wake();
  }
  private readString(key: string): string | undefined {
    const entry = this.strings.get(key);
    if (entry && entry.expiresAt > Date.now()) return entry.value;
    this.strings.delete(key);
    return undefined;
  }
  async getValue(key: string) {
    return this.readString(key);
  }
  async setValue(key: string, value: string, ttl: number) {
    this.strings.set(key, { value, expiresAt: Date.now() + ttl });
  }
  async addValue(key: string, value: string, ttl: number) {
    if (this.readString(key) !== undefined) return false;
    this.strings.set(key, { value, expiresAt: Date.now() + ttl });
    return true;
  }
  async compareAndSet(key: string, expected: string, value: string, ttl: number) {
    if (this.readString(key) !== expected) return false;
    this.strings.set(key, { value, expiresAt: Date.now() + ttl });
    return true;
  }
  async compareAndDelete(key: string, expected: string) {
    return this.readString(key) === expected && this.strings.delete(key);
  }
  async close() {}
}

const shared = { values: new Map(), events: new Map(), waiters: new Map(), strings: new Map() };
defineRateLimiterBackendTests("reference in-memory backend", () => new ReferenceBackend(shared));
