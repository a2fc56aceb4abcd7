/**
 * One abort event: a key without the backend's prefix (`cancel:<message id>` or
 * `abort:<message id>`) and its parameters (`{}`, or `{ abort_timeout: <ms> }`).
 */
export interface AbortEvent {
  readonly key: string;
  readonly params: Readonly<Record<string, unknown>>;
}

/**
 * Where abort requests travel from whoever calls `abort()` to the workers: per message, a cancel
 * event (read once when the message starts) and an abort event (waited for while it runs), as in
 * Python's dramatiq-abort `EventBackend`. Keys are given without the backend's prefix.
 */
export abstract class AbortBackend {
  /**
   * Signals events: each key gets its event appended, and expires after `ttl` ms.
   * @throws ConnectionError when the backend cannot be reached
   */
  abstract notify(events: readonly AbortEvent[], ttl: number): Promise<void>;

  /**
   * Takes the oldest event of `key` without waiting.
   * @returns the event, or null when there is none (or it does not decode)
   * @throws ConnectionError when the backend cannot be reached
   */
  abstract poll(key: string): Promise<AbortEvent | null>;

  /**
   * Waits up to `timeout` ms (at least 1000) for an event of any of `keys`, and takes it.
   * @returns the event, or null when none arrived in time (or the backend was closed meanwhile)
   * @throws ConnectionError when the backend cannot be reached
   */
  abstract waitMany(keys: readonly string[], timeout: number): Promise<AbortEvent | null>;

  /** @returns whether `key` holds an event that nobody has taken yet */
  abstract pending(key: string): Promise<boolean>;

  /**
   * Remembers when a delayed message is due (dq's own record, which Python does not read), so an
   * abort by id keeps its cancel event at least until then.
   */
  abstract rememberEta(messageId: string, eta: number, ttl: number): Promise<void>;

  /** @returns the due time `rememberEta` recorded for a message, or null */
  abstract etaOf(messageId: string): Promise<number | null>;

  /** Closes the backend's connections. */
  abstract close(): Promise<void>;
}

/** Parses an event value as dramatiq-abort does: a JSON object, or nothing. */
export function decodeEventValue(
  value: string | Buffer | null | undefined,
): Record<string, unknown> | null {
  if (!value || value.length === 0) return null;
  try {
    const parsed: unknown = JSON.parse(value.toString());
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
