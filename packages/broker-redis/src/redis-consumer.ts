import { Consumer, type MessageProxy } from "@dq/core";
import { decodeDelivery } from "@dq/core/adapter";
import type { RedisConsumerHost } from "./consumer-host.js";
import { closeConsumer, releaseDelivered, requeueDelivered } from "./consumer-settling.js";
import { ConsumerWaits } from "./consumer-waits.js";
import { AckBatcher, type AckBatch } from "./dispatch-client.js";
import { InFlightFetches } from "./in-flight-fetches.js";

/**
 * Delivers the messages of one Redis queue (`q` or `q.DQ`) through a prefetch window: delivered,
 * buffered and requested-but-not-arrived messages never exceed `prefetch`. A batch of acks asks
 * for the room it frees in the same call (`ack_fetch`), so the window refills continuously and
 * several fetches may be in flight; while idle the consumer polls with Dramatiq's backoff and
 * wakes at once on a dq producer's wake-up.
 */
export class RedisConsumer extends Consumer {
  private readonly buffer: Fetched[] = [];
  private readonly delivered = new Map<MessageProxy, string>();
  /** The last fetch got fewer messages than it asked for. */
  private drained = false;
  private closed = false;
  private readonly waits = new ConsumerWaits(() => this.closed);
  /** Fetches waiting for their reply, and the messages they asked for. */
  private readonly inFlight = new InFlightFetches(() => this.broker.acks.fetchStarted());
  private readonly stopListening: () => void;
  private readonly acks = new AckBatcher((batch) => this.flushAcks(batch));

  /** @internal Created by `RedisBroker.consume`, with the broker as its host. */
  constructor(
    private readonly broker: RedisConsumerHost,
    readonly queueName: string,
    readonly prefetch: number,
    readonly timeout: number,
  ) {
    super();
    this.stopListening = broker.wakeups.listen(
      queueName,
      () => this.waits.wake("remote"),
      (id, data) => this.takeHandOff(id, data),
    );
  }

  /** @internal Whether a fetch is waiting for its reply. */
  get isFetching(): boolean {
    return this.inFlight.size > 0;
  }

  /** @internal The redis message ids this consumer holds (buffered or delivered). */
  heldIds(): string[] {
    return [...this.delivered.values(), ...this.buffer.map((item) => item.id)];
  }

  /** Messages delivered by this consumer and not yet acked, nacked or requeued. */
  get outstanding(): number {
    return this.delivered.size + this.buffer.length;
  }

  /**
   * @returns the next delivery, or `null` after `timeout` ms without one, or done once closed
   * @throws ConnectionClosed / ConnectionFailed when Redis is lost or unreachable
   */
  async next(): Promise<IteratorResult<MessageProxy | null>> {
    const deadline = Date.now() + this.timeout;
    for (;;) {
      if (this.closed) return { done: true, value: undefined };
      const buffered = this.buffer.shift();
      if (buffered) return { done: false, value: this.deliver(buffered) };
      this.waits.clear("local");
      const capacity = this.prefetch - this.delivered.size - this.inFlight.requested;
      if (capacity > 0) {
        if (!this.drained) {
          if (this.inFlight.requested === 0) this.waits.clear("remote");
          // After a lost connection, first return what the ack set holds for nobody (when no
          // fetch is in flight; else the next fetch tries again).
          if (this.broker.acks.needsReconcile(this.queueName))
            await this.broker.acks.reconcile(this.queueName);
          const count = await this.inFlight.track(capacity, this.fetch(capacity));
          // Fewer than asked for: the queue was empty, so fetching again at once would find
          // nothing; wait for a wake-up (or the backoff) as after an empty fetch.
          this.drained = count < capacity;
          if (count > 0 || this.buffer.length > 0) {
            this.waits.resetBackoff();
            continue;
          }
        }
        this.drained = false;
        if (this.closed) continue;
        const rest = deadline - Date.now();
        if (rest <= 0) return { done: false, value: null };
        await this.waits.idle(rest, this.timeout);
      } else {
        // The window is full: an ack, nack or requeue opens it; an arriving fetch fills the buffer.
        const rest = deadline - Date.now();
        if (rest <= 0) return { done: false, value: null };
        await this.waits.wait("local", rest);
      }
      if (
        Date.now() >= deadline &&
        this.buffer.length === 0 &&
        this.prefetch - this.delivered.size - this.inFlight.requested <= 0
      ) {
        return { done: false, value: null };
      }
    }
  }

  /** A prefetched message, delivered without waiting (see `Consumer.nextReady`). */
  override nextReady(): MessageProxy | undefined {
    if (this.closed) return undefined;
    const buffered = this.buffer.shift();
    return buffered && this.deliver(buffered);
  }

  private async fetch(count: number): Promise<number> {
    return this.takeFetched(
      await this.broker.dispatchBuffers(this.queueName, "fetch", [count, this.registration()]),
    );
  }

  /** 1 when an empty fetch should register this broker for hand-offs (they can reach it), else 0. */
  private registration(): 0 | 1 {
    return this.broker.wakeups.acceptsHandOffs && !this.closed ? 1 : 0;
  }

  /**
   * A message an enqueue handed to this broker (its id is in the ack set): buffer it. The queue
   * was empty, so the loop waits instead of fetching; the ack of this message fetches and
   * registers again.
   */
  private takeHandOff(id: string, data: Buffer): boolean {
    this.buffer.push({ id, data });
    this.waits.resetBackoff();
    this.drained = true;
    this.waits.wake("local");
    return true;
  }

  /** Buffers the messages of a `fetch` reply (id, data pairs); @returns how many. */
  private async takeFetched(reply: unknown): Promise<number> {
    const { fetched, missing } = bufferFetched(reply, this.buffer);
    await dropMissing(this.broker, this.queueName, missing);
    return fetched;
  }

  private deliver({ id, data }: Fetched): MessageProxy {
    const proxy = decodeDelivery(this.queueName, data);
    this.delivered.set(proxy, id);
    return proxy;
  }

  private idOf(proxy: MessageProxy, what: string): string | undefined {
    const id = this.delivered.get(proxy);
    if (id === undefined)
      this.broker.logger.warn(
        `Ignoring a ${what} for message ${proxy.messageId}, which this consumer did not deliver.`,
      );
    return id;
  }

  /**
   * Acknowledges a processed message: it leaves Redis. The acks issued in the same run of
   * synchronous code and microtasks (concurrent messages finishing on the same Redis reply) are
   * flushed on `process.nextTick` as one dispatch call — `ack` for one id, `ack_many` for several,
   * with the same effects as one `ack` per id — and each caller resolves only once Redis has
   * applied that call (see AckBatcher).
   * @throws ConnectionClosed / ConnectionFailed when Redis is lost (the worker retries)
   */
  ack(proxy: MessageProxy): Promise<void> {
    const id = this.idOf(proxy, "ack");
    if (id === undefined) return Promise.resolve();
    // Every ack of the batch shares its promise (no promise of its own per message).
    return this.acks.add(id, proxy);
  }

  /** The batch's call succeeded: its messages are no longer held. */
  private acked(batch: AckBatch): void {
    for (const proxy of batch.proxies) this.delivered.delete(proxy);
    this.settledOne();
    // The room matters to a loop waiting for it (a full window); one waiting for Redis already had
    // room, and waking it would only send it back to wait.
    if (this.waits.waiting === "local") this.waits.wake("local");
    batch.resolve();
  }

  /**
   * Sends the pending acks. When they open room in the prefetch window, the same call asks for
   * that room (`ack_fetch`): one round trip instead of an ack, its reply, then a fetch. The
   * fetched messages are buffered before the acks resolve.
   */
  private flushAcks(batch: AckBatch): void {
    const { ids } = batch;
    const { requested } = this.inFlight;
    const room =
      this.prefetch - (this.delivered.size - ids.length) - this.buffer.length - requested;
    if (room > 0 && !this.closed && !this.broker.acks.needsReconcile(this.queueName)) {
      this.broker.acks.fetchStarted();
      const call = this.broker.dispatchBuffers(this.queueName, "ack_fetch", [
        room,
        this.registration(),
        ...ids,
      ]);
      // One reaction to the reply does it all (each promise costs under async hooks): the fetched
      // messages are buffered, the room is no longer requested, then the acks resolve and wake
      // the loop, which sees all of it at once.
      this.inFlight.requested += room;
      const settled: Promise<void> = call.then(
        (reply) => {
          const { fetched, missing } = bufferFetched(reply, this.buffer);
          this.inFlight.requested -= room;
          // Nothing there: the call registered for hand-offs; the loop need not fetch again.
          if (fetched === 0) this.drained = true;
          else this.waits.wake("local");
          this.acked(batch);
          if (missing.length === 0) {
            this.inFlight.delete(settled);
            return;
          }
          // Redis away: the ids stay in the ack set, which recovery cleans up.
          return dropMissing(this.broker, this.queueName, missing)
            .catch((error: unknown) =>
              this.broker.logger.warn(
                `Could not drop ${missing.length} id(s) without data from the ack set of ${this.queueName}.`,
                error,
              ),
            )
            .finally(() => this.inFlight.delete(settled));
        },
        (error: unknown) => {
          this.inFlight.requested -= room;
          this.inFlight.delete(settled);
          batch.reject(error);
        },
      );
      this.inFlight.add(settled);
      return;
    }
    const command = ids.length === 1 ? "ack" : "ack_many";
    this.broker
      .dispatch(this.queueName, command, ids, { maintenance: false })
      .then(() => this.acked(batch), batch.reject);
  }

  /**
   * Dead-letters a message: its stored bytes move to the canonical queue's `.XQ`.
   * @throws ConnectionClosed / ConnectionFailed when Redis is lost (the worker retries)
   */
  async nack(proxy: MessageProxy): Promise<void> {
    const id = this.idOf(proxy, "nack");
    if (id === undefined) return;
    await this.broker.dispatch(this.queueName, "nack", [id], { maintenance: false });
    this.delivered.delete(proxy);
    this.settledOne();
    this.waits.wake("local");
  }

  /**
   * Returns delivered but unprocessed messages to the tail of the queue.
   * @throws ConnectionClosed / ConnectionFailed when Redis is lost
   */
  override async requeue(proxies: readonly MessageProxy[]): Promise<void> {
    await requeueDelivered(this.broker, this.queueName, this.delivered, proxies, () =>
      this.release(proxies),
    );
    this.settledOne();
    this.waits.wake("local");
  }

  /**
   * The worker lets go of these deliveries without settling them (the delayed messages it held
   * when this consumer failed with a ConnectionError). Their ids stay in this broker's ack set,
   * which no heartbeat timeout empties while the broker lives: the queue's next fetch (on any of
   * this broker's consumers) reconciles the set and returns them to the queue.
   */
  override release(proxies: readonly MessageProxy[]): void {
    if (releaseDelivered(this.broker, this.delivered, proxies)) this.settledOne();
  }

  /** A delivery was settled or let go of: a closed consumer with none left is forgotten. */
  private settledOne(): void {
    if (this.closed && this.delivered.size === 0) this.broker.retiredConsumerSettled(this);
  }

  /** Stops delivering; a pending `next()` resolves done and prefetched messages go back to Redis. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.waits.cancel();
    await closeConsumer(this.broker, this, this.stopListening, this.inFlight, this.buffer);
  }
}

// What enters the buffer from a `fetch` or `ack_fetch` reply (a hand-off is pushed by
// takeHandOff; core's decodeDelivery decodes each message on delivery).

/** A message fetched (or handed off) and not yet delivered. */
interface Fetched {
  id: string;
  data: Buffer;
}

/**
 * Appends the messages of a `fetch` or `ack_fetch` reply (`[id1, data1, id2, data2, ...]`) to
 * `buffer`.
 * @returns how many, and the ids that had no data in the `.msgs` hash
 */
function bufferFetched(reply: unknown, buffer: Fetched[]): { fetched: number; missing: string[] } {
  const pairs = reply as (Buffer | Buffer[] | null)[];
  let fetched = 0;
  const missing: string[] = [];
  for (let index = 0; index + 1 < pairs.length; index += 2) {
    const id = (pairs[index] as Buffer).toString("utf8");
    const reply = pairs[index + 1];
    // A large message comes in chunks (see the script's reply_data): joined into a Buffer of
    // its own, not a slice of the reply parser's pool.
    const data = Array.isArray(reply) ? Buffer.concat(reply) : reply;
    if (!data) {
      missing.push(id);
      continue;
    }
    buffer.push({ id, data });
    fetched++;
  }
  return { fetched, missing };
}

/** Dramatiq skips ids without data too; dq also drops them from its ack set so they do not linger. */
async function dropMissing(
  host: RedisConsumerHost,
  queueName: string,
  missing: readonly string[],
): Promise<void> {
  for (const id of missing) {
    host.logger.warn(
      `Skipping message ${id} on queue ${queueName}: its id has no data in ${host.namespace}:${queueName}.msgs.`,
    );
    await host.dispatch(queueName, "ack", [id], { maintenance: false });
  }
}
