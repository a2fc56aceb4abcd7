/**
 * The fetches of a `RedisConsumer` waiting for their reply (`fetch` and `ack_fetch` calls), and
 * how many messages they asked for: the `requested` part of the consumer's prefetch window.
 */
export class InFlightFetches {
  private readonly pending = new Set<Promise<unknown>>();
  /** Messages those fetches asked for. */
  requested = 0;

  /** @param started - runs as each tracked fetch starts (before it is counted) */
  constructor(private readonly started: () => void) {}

  /** How many fetches wait for their reply. */
  get size(): number {
    return this.pending.size;
  }

  /** Counts `fetch` (asking for `count` messages) as in flight until it settles. */
  track(count: number, fetch: Promise<number>): Promise<number> {
    this.started();
    this.requested += count;
    const tracked: Promise<number> = fetch.finally(() => {
      this.requested -= count;
      this.pending.delete(tracked);
    });
    this.pending.add(tracked);
    return tracked;
  }

  /** Counts a call whose messages the caller adds to and removes from `requested` itself. */
  add(call: Promise<unknown>): void {
    this.pending.add(call);
  }

  /** The call added with `add` has settled. */
  delete(call: Promise<unknown>): void {
    this.pending.delete(call);
  }

  /** Resolves once every fetch in flight now has settled (failed ones included). */
  settled(): Promise<unknown> {
    return Promise.all([...this.pending].map((fetch) => fetch.catch(() => undefined)));
  }
}
