import type { MessageState, RatePoint, WorkerInfo } from "../api-types.js";

export type { MessageState, RatePoint, WorkerInfo };

/** A message's state as found (`inFlight`: fetched by a worker, not yet acked). */
export type FoundState = MessageState | "inFlight";

/** Counts of one queue. */
export interface QueueCounts {
  ready: number;
  delayed: number;
  inFlight: number;
  dead: number;
}

/** One stored message as a source reads it. */
export interface StoredMessage {
  /** The id the broker stores it under (Redis: `redis_message_id`; RabbitMQ: `message_id`). */
  id: string;
  state: FoundState;
  /** Raw bytes (undecoded). */
  data: Buffer;
  /** When it was dead-lettered (ms), when known. */
  failedAt?: number;
}

/** A page of messages. */
export interface MessagePage {
  total: number;
  messages: StoredMessage[];
}

/** What the dashboard reads and changes on one broker. */
export interface Source {
  readonly id: string;
  readonly kind: "redis" | "rabbitmq" | "stub";
  /** The broker URL with its password masked. */
  readonly url: string;
  /** The Dramatiq queues (canonical names), bounded. */
  queues(): Promise<string[]>;
  /** Whether a queue exists (declared or found). */
  hasQueue(queue: string): Promise<boolean>;
  counts(queues: readonly string[]): Promise<QueueCounts[]>;
  /** Processed and failed per minute over the last `minutes` minutes, oldest first. */
  rates(
    queues: readonly string[],
    minutes: number,
  ): Promise<{ processed: RatePoint[]; failed: RatePoint[] }>;
  page(
    queue: string,
    state: MessageState,
    order: "oldest" | "newest",
    page: number,
    limit: number,
  ): Promise<MessagePage>;
  /** A message by its stored id, wherever it is in the queue. */
  get(queue: string, id: string): Promise<StoredMessage | undefined>;
  /** Reads up to `max` messages of the queue (all states) for a search; `each` returns false to stop. */
  scan(queue: string, max: number, each: (message: StoredMessage) => boolean): Promise<number>;
  workers(): Promise<WorkerInfo[]>;
  /** How many workers are alive (recent heartbeats / consumer connections). */
  alive(): Promise<number>;
  /** Dead letters back to the queue; returns how many moved. */
  retry(queue: string, ids: readonly string[] | "all"): Promise<number>;
  delete(queue: string, id: string, state: MessageState): Promise<boolean>;
  /** Drops the queue's ready, delayed and dead messages; returns how many. */
  purge(queue: string): Promise<number>;
  close(): Promise<void>;
}
