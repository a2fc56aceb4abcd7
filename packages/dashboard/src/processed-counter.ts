import { hostname } from "node:os";
import { Middleware, type Broker, type MessageProxy, type Worker } from "@dq/core";
import type { ProcessOutcome } from "@dq/core";
import { isRedisBroker, processedKey, workersKey } from "./sources/redis.js";

/** How often counts are written (ms): one HINCRBY per minute bucket per flush, whatever the rate. */
const FLUSH_INTERVAL = 1000;
/** Buckets kept (minutes): the dashboard shows 30. */
const KEEP_MINUTES = 60;
/** How often this process's description is written (ms), and how long it is kept. */
const DESCRIBE_INTERVAL = 5000;
const DESCRIPTION_TTL = 120_000;

/** What a worker process publishes about itself for the dashboard's workers page on Redis. */
export interface PublishedWorker {
  host: string;
  pid: number;
  concurrency?: number;
  startedAt: number;
  /** Messages running now in this process. */
  inProgress: number;
  at: number;
}

/**
 * For the dashboard on Redis, where Dramatiq's keyspace has neither: counts successfully processed
 * messages per minute (the "processed" chart), and publishes this worker process's host, pid,
 * concurrency, start time and running messages (the workers page). Add it to the workers' brokers:
 * `broker.addMiddleware(new ProcessedCounter())`. Counts are batched in memory and written once a
 * second to `<ns>:__dq_dashboard__.processed` (field: minute start in ms); the description every
 * 5 s to `<ns>:__dq_dashboard__.workers` (field: the broker id). Both keys expire. On other
 * brokers it does nothing (RabbitMQ's management API has the rates and the consumers).
 */
export class ProcessedCounter extends Middleware {
  private readonly pending = new Map<Broker, Map<number, number>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<string>();
  private readonly workers = new Map<Broker, { concurrency: number; startedAt: number }>();
  private describer: NodeJS.Timeout | undefined;

  override afterWorkerBoot(broker: Broker, worker: Worker): void {
    if (!isRedisBroker(broker)) return;
    this.workers.set(broker, { concurrency: worker.concurrency, startedAt: Date.now() });
    void this.describe();
    this.describer ??= setInterval(() => void this.describe(), DESCRIBE_INTERVAL);
    this.describer.unref();
  }

  override beforeProcessMessage(_broker: Broker, message: MessageProxy): void {
    this.running.add(message.messageId);
  }

  override afterSkipMessage(_broker: Broker, message: MessageProxy): void {
    this.running.delete(message.messageId);
  }

  override afterProcessMessage(
    broker: Broker,
    message: MessageProxy,
    outcome: ProcessOutcome,
  ): void {
    this.running.delete(message.messageId);
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

  /** Writes this process's description for each Redis broker it works for. */
  private async describe(): Promise<void> {
    await Promise.all(
      [...this.workers].map(async ([broker, { concurrency, startedAt }]) => {
        if (!isRedisBroker(broker) || !broker.brokerId) return;
        const description: PublishedWorker = {
          host: hostname(),
          pid: process.pid,
          concurrency,
          startedAt,
          inProgress: this.running.size,
          at: Date.now(),
        };
        const key = workersKey(broker.namespace);
        await broker.client
          .multi()
          .hset(key, broker.brokerId, JSON.stringify(description))
          .pexpire(key, DESCRIPTION_TTL)
          .exec()
          .catch(() => undefined);
      }),
    );
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

  /** Flushes when the worker stops, and removes this process's description. */
  override async afterWorkerShutdown(): Promise<void> {
    clearInterval(this.describer);
    this.describer = undefined;
    await this.flush();
    for (const broker of this.workers.keys())
      if (isRedisBroker(broker) && broker.brokerId)
        await broker.client.hdel(workersKey(broker.namespace), broker.brokerId).catch(() => 0);
    this.workers.clear();
  }
}
