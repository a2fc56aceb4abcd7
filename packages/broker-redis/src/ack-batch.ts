import type { MessageProxy } from "@dq/core";

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
