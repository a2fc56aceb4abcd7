import { Consumer, type MessageProxy } from "@dq/core";

type Delivery = IteratorResult<MessageProxy | null, undefined>;

/**
 * Consumes one queue on every shard: `next()` races the shards' consumers and returns the first
 * delivery; a shard's `next()` still running keeps its promise, so what it delivers later is
 * returned by a later call, never dropped. `null` once every shard's wait ended empty. Each
 * delivery is settled (ack, nack, requeue, release) by the shard consumer that delivered it.
 */
export class ShardedConsumer extends Consumer {
  private readonly pending: (Promise<Delivery> | undefined)[];
  private readonly origin = new WeakMap<MessageProxy, Consumer>();
  /** Where `nextReady` starts looking, so that no shard is always asked first. */
  private turn = 0;
  private closed = false;

  constructor(private readonly shards: readonly Consumer[]) {
    super();
    this.pending = shards.map(() => undefined);
  }

  private deliver(shard: Consumer, proxy: MessageProxy): MessageProxy {
    this.origin.set(proxy, shard);
    return proxy;
  }

  override nextReady(): MessageProxy | undefined {
    const count = this.shards.length;
    for (let step = 0; step < count; step++) {
      const index = (this.turn + step) % count;
      // A shard with a next() in progress is asked by that call only.
      if (this.pending[index]) continue;
      const shard = this.shards[index]!;
      const proxy = shard.nextReady();
      if (proxy) {
        this.turn = (index + 1) % count;
        return this.deliver(shard, proxy);
      }
    }
    return undefined;
  }

  async next(): Promise<Delivery> {
    const ready = this.nextReady();
    if (ready) return { done: false, value: ready };
    const waiting = new Set<number>();
    this.shards.forEach((shard, index) => {
      if (!this.pending[index]) {
        const next = shard.next();
        // Observed here: a shard failing while nobody races it must not be an unhandled rejection.
        next.catch(() => undefined);
        this.pending[index] = next;
      }
      waiting.add(index);
    });
    while (waiting.size > 0) {
      const [index, result] = await Promise.race(
        [...waiting].map((index) =>
          this.pending[index]!.then((result) => [index, result] as const),
        ),
      );
      this.pending[index] = undefined;
      waiting.delete(index);
      if (result.done) continue;
      if (result.value)
        return { done: false, value: this.deliver(this.shards[index]!, result.value) };
    }
    return { done: false, value: null };
  }

  private shardOf(message: MessageProxy): Consumer {
    const shard = this.origin.get(message);
    if (!shard) throw new Error(`message ${message.messageId} was not delivered by this consumer`);
    return shard;
  }

  override ack(message: MessageProxy): Promise<void> {
    return this.shardOf(message).ack(message);
  }

  override nack(message: MessageProxy): Promise<void> {
    return this.shardOf(message).nack(message);
  }

  private byShard(messages: readonly MessageProxy[]): Map<Consumer, MessageProxy[]> {
    const groups = new Map<Consumer, MessageProxy[]>();
    for (const message of messages) {
      const shard = this.shardOf(message);
      let group = groups.get(shard);
      if (!group) groups.set(shard, (group = []));
      group.push(message);
    }
    return groups;
  }

  override async requeue(messages: readonly MessageProxy[]): Promise<void> {
    await Promise.all([...this.byShard(messages)].map(([shard, group]) => shard.requeue(group)));
  }

  override release(messages: readonly MessageProxy[]): void {
    for (const [shard, group] of this.byShard(messages)) shard.release(group);
  }

  /**
   * Closes every shard's consumer. A delivery that a shard's `next()` still brings in is handed
   * back to its queue first: nobody will process it here.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.shards.map(async (shard, index) => {
        const pending = this.pending[index];
        this.pending[index] = undefined;
        const closing = shard.close();
        const late = pending ? await pending.catch(() => undefined) : undefined;
        if (late && !late.done && late.value)
          await shard.requeue([late.value]).catch(() => undefined);
        await closing;
      }),
    );
  }
}
