import { Middleware, type Broker, type MessageProxy } from "@dq/core";
import type { ProcessOutcome } from "@dq/core";
import { isRedisBroker, processedKey } from "./sources/redis.js";

/** How often counts are written (ms): one HINCRBY per minute bucket per flush, whatever the rate. */
const FLUSH_INTERVAL = 1000;
/** Buckets kept (minutes): the dashboard shows 30. */
const KEEP_MINUTES = 60;

/**
 * Counts successfully processed messages per minute for the dashboard's "processed" chart on Redis
 * (Dramatiq's Redis keyspace has no such counter). Add it to the workers' brokers:
 * `broker.addMiddleware(new ProcessedCounter())`. Counts are batched in memory and written once a
 * second to one hash, `<ns>:__dq_dashboard__.processed` (field: minute start in ms), that expires.
 * On other brokers it does nothing (RabbitMQ's management API has the rates).
 */
export class ProcessedCounter extends Middleware {
  private readonly pending = new Map<Broker, Map<number, number>>();
  private timer: NodeJS.Timeout | undefined;

  override afterProcessMessage(
    broker: Broker,
    _message: MessageProxy,
    outcome: ProcessOutcome,
  ): void {
    if (outcome.exception !== undefined || !isRedisBroker(broker)) return;
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    let counts = this.pending.get(broker);
    if (!counts) this.pending.set(broker, (counts = new Map<number, number>()));
    counts.set(minute, (counts.get(minute) ?? 0) + 1);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_INTERVAL);
      this.timer.unref();
    }
  }

  /** Writes the pending counts now. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batches = [...this.pending];
    this.pending.clear();
    await Promise.all(
      batches.map(async ([broker, counts]) => {
        if (!isRedisBroker(broker)) return;
        const key = processedKey(broker.namespace);
        const transaction = broker.client.multi();
        for (const [minute, n] of counts) transaction.hincrby(key, String(minute), n);
        const oldest = Math.min(...counts.keys()) - KEEP_MINUTES * 60_000;
        const stale = Array.from({ length: 5 }, (_, i) => String(oldest - i * 60_000));
        transaction.hdel(key, ...stale).pexpire(key, 2 * KEEP_MINUTES * 60_000);
        await transaction.exec().catch(() => undefined);
      }),
    );
  }

  /** Flushes when the worker stops. */
  override async afterWorkerShutdown(): Promise<void> {
    await this.flush();
  }
}
