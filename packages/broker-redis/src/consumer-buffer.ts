// What enters and leaves a RedisConsumer's buffer: the messages of a fetch or ack_fetch reply (the
// third way in, a Pub/Sub hand-off, is pushed by the consumer itself; core's decodeDelivery decodes them on
// delivery), and the per-tick batch of acks that leaves it.
import type { MessageProxy } from "@dq/core";
import type { RedisConsumerHost } from "./consumer-host.js";

/** A message fetched (or handed off) and not yet delivered. */
export interface Fetched {
  id: string;
  data: Buffer;
}

/**
 * Appends the messages of a `fetch` or `ack_fetch` reply (`[id1, data1, id2, data2, ...]`) to
 * `buffer`.
 * @returns how many, and the ids that had no data in the `.msgs` hash
 */
export function bufferFetched(
  reply: unknown,
  buffer: Fetched[],
): { fetched: number; missing: string[] } {
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
export async function dropMissing(
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
/** The acks issued before the next `process.nextTick` callback, sent together (see `RedisConsumer.ack`). */
export interface AckBatch {
  ids: string[];
  proxies: MessageProxy[];
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Collects the acks of one tick: the first `add` of a tick schedules `flush` on
 * `process.nextTick` (not setImmediate: the call joins the broker's write of the dispatch calls
 * of the same tick instead of waiting a loop turn).
 */
export class AckBatcher {
  private pending: AckBatch | undefined;

  constructor(private readonly flush: (batch: AckBatch) => void) {}

  /** Adds one ack; @returns the batch's promise, shared by its acks (no promise per message). */
  add(id: string, proxy: MessageProxy): Promise<void> {
    let batch = this.pending;
    if (!batch) {
      batch = this.pending = newBatch();
      process.nextTick(this.take);
    }
    batch.ids.push(id);
    batch.proxies.push(proxy);
    return batch.done;
  }

  private readonly take = (): void => {
    const batch = this.pending;
    if (!batch) return;
    this.pending = undefined;
    this.flush(batch);
  };
}

function newBatch(): AckBatch {
  const batch = { ids: [] as string[], proxies: [] as MessageProxy[] } as AckBatch;
  batch.done = new Promise<void>((resolve, reject) => {
    batch.resolve = resolve;
    batch.reject = reject;
  });
  return batch;
}
