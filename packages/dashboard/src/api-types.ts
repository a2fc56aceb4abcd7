// The shapes the JSON API sends that the UI reads as they are: no Node types here, so the UI
// (ui/src/api.ts) imports them type-only from this file.

/** The three tabs of a queue. */
export type MessageState = "ready" | "delayed" | "dead";

/** A point of a per-minute series. */
export interface RatePoint {
  t: number;
  n: number;
}

/** A worker process (a broker heartbeat or a consumer connection). */
export interface WorkerInfo {
  broker: string;
  id: string;
  host?: string;
  pid?: number;
  queues: string[];
  concurrency?: number;
  inProgress?: number;
  startedAt?: number;
  lastSeen: number;
  /** Whether its last heartbeat is within the timeout. */
  alive?: boolean;
}
