import { AbortBackend, type AbortEvent } from "./abort-backend.js";

interface Entry {
  events: Record<string, unknown>[];
  expiresAt: number;
}

/**
 * An in-memory abort backend for tests and single-process use: the same lists and TTLs as the
 * Redis backend, in this process only.
 */
export class StubAbortBackend extends AbortBackend {
  private readonly lists = new Map<string, Entry>();
  private readonly etas = new Map<string, { eta: number; expiresAt: number }>();
  private waiters = new Set<() => void>();
  private closed = false;

  private entry(key: string): Entry | undefined {
    const entry = this.lists.get(key);
    if (entry && (entry.expiresAt <= Date.now() || entry.events.length === 0)) {
      this.lists.delete(key);
      return undefined;
    }
    return entry;
  }

  /** The remaining TTL of `key` in ms, or -2 when it does not exist (as Redis's PTTL). */
  ttlOf(key: string): number {
    const entry = this.entry(key);
    return entry ? entry.expiresAt - Date.now() : -2;
  }

  override notify(events: readonly AbortEvent[], ttl: number): Promise<void> {
    for (const { key, params } of events) {
      const entry = this.entry(key) ?? { events: [], expiresAt: 0 };
      entry.events.push({ ...params });
      entry.expiresAt = Date.now() + ttl;
      this.lists.set(key, entry);
    }
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
    return Promise.resolve();
  }

  override poll(key: string): Promise<AbortEvent | null> {
    const params = this.entry(key)?.events.shift();
    return Promise.resolve(params ? { key, params } : null);
  }

  override async waitMany(keys: readonly string[], timeout: number): Promise<AbortEvent | null> {
    const deadline = Date.now() + timeout;
    for (;;) {
      if (this.closed) return null;
      for (const key of keys) {
        const event = await this.poll(key);
        if (event) return event;
      }
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  override pending(key: string): Promise<boolean> {
    return Promise.resolve(this.entry(key) !== undefined);
  }

  override rememberEta(messageId: string, eta: number, ttl: number): Promise<void> {
    this.etas.set(messageId, { eta, expiresAt: Date.now() + ttl });
    return Promise.resolve();
  }

  override etaOf(messageId: string): Promise<number | null> {
    const record = this.etas.get(messageId);
    return Promise.resolve(record && record.expiresAt > Date.now() ? record.eta : null);
  }

  override close(): Promise<void> {
    this.closed = true;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
    return Promise.resolve();
  }
}
