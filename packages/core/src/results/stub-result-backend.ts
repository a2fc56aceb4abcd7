import { clockNow, currentClock } from "../clock.js";
import { ResultMissing, ResultTimeout } from "../errors.js";
import type { Message } from "../message.js";
import { Missing, ResultBackend, type ResultBackendOptions } from "./result-backend.js";

/**
 * An in-memory result backend for tests. Blocking reads wake as soon as the result is stored.
 * TTLs are truncated to whole seconds, as in Dramatiq's StubBackend.
 */
export class StubResultBackend extends ResultBackend {
  private readonly values = new Map<string, { data: Buffer; expiresAt: number }>();
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(options: ResultBackendOptions = {}) {
    super(options);
  }

  override async getResult<R>(
    message: Message<R>,
    options: { block?: boolean; timeout?: number } = {},
  ): Promise<R> {
    const key = this.buildMessageKey(message);
    const value = await this.getValue(key);
    if (value !== Missing) return this.unwrapResult(value) as R;
    if (!options.block)
      throw new ResultMissing(
        `no result stored for message ${message.messageId} (${message.actorName}) under key ${key} (results are kept only for actors or messages with storeResults: true)`,
      );
    const timeout = options.timeout ?? 10_000;
    const clock = currentClock();
    await new Promise<void>((resolve, reject) => {
      const waiters = this.waiters.get(key) ?? new Set();
      this.waiters.set(key, waiters);
      const wake = () => {
        clock.clearTimeout(timer);
        waiters.delete(wake);
        resolve();
      };
      const timer = clock.setTimeout(() => {
        waiters.delete(wake);
        reject(
          new ResultTimeout(
            `timed out after ${timeout} ms waiting for the result of message ${message.messageId} (${message.actorName})`,
          ),
        );
      }, timeout);
      waiters.add(wake);
      // A store that landed between the read above and this registration would never wake us.
      if (this.stored(key)) wake();
    });
    return this.getResult(message, options);
  }

  private stored(key: string): boolean {
    const entry = this.values.get(key);
    return entry !== undefined && entry.expiresAt > clockNow();
  }

  protected async getValue(key: string): Promise<unknown> {
    const entry = this.values.get(key);
    if (!entry) return Missing;
    if (entry.expiresAt <= clockNow()) {
      this.values.delete(key);
      return Missing;
    }
    return this.decodeValue(entry.data);
  }

  protected async storeValue(key: string, data: Buffer, ttl: number): Promise<void> {
    this.values.set(key, { data, expiresAt: clockNow() + Math.floor(ttl / 1000) * 1000 });
    for (const wake of [...(this.waiters.get(key) ?? [])]) wake();
  }

  /** Drops every stored result. */
  clear(): void {
    this.values.clear();
  }
}
