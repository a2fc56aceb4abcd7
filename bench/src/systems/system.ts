import type { CaseId, SystemId } from "../args.js";

/** Where one measurement keeps its data: a fresh prefix (Redis) or queue name (RabbitMQ). */
export interface Scope {
  /** Unique per measurement: the Redis key prefix / namespace, and the base of queue names. */
  prefix: string;
  redisUrl: string;
  amqpUrl: string;
}

/** The producer side of a system: enqueues no-op jobs that carry their index. */
export interface Producer {
  /** Enqueues one job and resolves once the system has stored it. */
  enqueue(index: number): Promise<void>;
  /** Enqueues `count` jobs, indexes `from`..`from + count - 1`, in one bulk call. */
  enqueueBulk(from: number, count: number): Promise<void>;
  close(): Promise<void>;
}

/** A running worker (inside the child process). */
export interface WorkerHandle {
  close(): Promise<void>;
}

/** One system under test. */
export interface SystemDriver {
  readonly id: SystemId;
  /** The name in the table. */
  readonly label: string;
  /** The server it needs. */
  readonly server: "redis" | "rabbitmq";
  /** The cases it takes part in (default: all). */
  readonly cases?: readonly CaseId[];
  createProducer(scope: Scope): Promise<Producer>;
  /**
   * Starts a worker of `concurrency` that runs a no-op handler and calls `onComplete(index)` once
   * the system considers the job done (dq: after the ack; BullMQ: `completed`; bee-queue:
   * `succeeded`).
   */
  startWorker(
    scope: Scope,
    concurrency: number,
    onComplete: (index: number) => void,
  ): Promise<WorkerHandle>;
  /** Deletes everything the scope left on the server. */
  cleanup(scope: Scope): Promise<void>;
}

/** Host, port and db of a `redis://` URL, for clients that take an object. */
export function redisEndpoint(url: string): { host: string; port: number; db: number } {
  const parsed = new URL(url);
  return {
    host: parsed.hostname || "127.0.0.1",
    port: Number(parsed.port || 6379),
    db: Number(parsed.pathname.slice(1) || 0),
  };
}
