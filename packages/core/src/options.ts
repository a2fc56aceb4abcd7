/**
 * The one place where option keys cross between the camelCase API and Dramatiq's snake_case wire.
 * Known Dramatiq keys are mapped; any other key passes through untouched both ways, so options
 * written by another language survive a round trip byte for byte.
 */
import type { MessageData } from "./message.js";

/** Options a message may carry. Known keys are Dramatiq's, in camelCase; others pass through. */
export interface MessageOptions {
  /** Absolute UNIX ms at which a delayed message is due. */
  eta?: number;
  /** Redis broker: the id of this enqueue (differs from `messageId`). */
  redisMessageId?: string;
  /** Retries: failures so far. */
  retries?: number;
  /** Retries: the stack of the last failure. */
  traceback?: string;
  /** Retries: UNIX ms of the last failure. */
  requeueTimestamp?: number;
  /** Pipelines: the next message, in wire shape. */
  pipeTarget?: MessageData;
  /** Pipelines: do not pass the previous result to this message. */
  pipeIgnore?: boolean;
  /** The delay (ms) this message is run with inside a pipeline. */
  delay?: number;
  /** Group callbacks: the barrier key. */
  groupCompletionUuid?: string;
  /** Group callbacks: the messages to send when the group completes, in wire shape. */
  groupCompletionCallbacks?: MessageData[];
  onSuccess?: string;
  onFailure?: string;
  onRetryExhausted?: string;
  maxRetries?: number | null;
  minBackoff?: number;
  maxBackoff?: number;
  maxAge?: number;
  timeLimit?: number;
  notifyShutdown?: boolean;
  storeResults?: boolean;
  resultTtl?: number;
  /** RabbitMQ: the AMQP priority of this message. */
  brokerPriority?: number;
  [key: string]: unknown;
}

const WIRE_KEYS: Record<string, string> = {
  redisMessageId: "redis_message_id",
  requeueTimestamp: "requeue_timestamp",
  pipeTarget: "pipe_target",
  pipeIgnore: "pipe_ignore",
  groupCompletionUuid: "group_completion_uuid",
  groupCompletionCallbacks: "group_completion_callbacks",
  onSuccess: "on_success",
  onFailure: "on_failure",
  onRetryExhausted: "on_retry_exhausted",
  maxRetries: "max_retries",
  minBackoff: "min_backoff",
  maxBackoff: "max_backoff",
  retryWhen: "retry_when",
  maxAge: "max_age",
  timeLimit: "time_limit",
  notifyShutdown: "notify_shutdown",
  storeResults: "store_results",
  resultTtl: "result_ttl",
  brokerPriority: "broker_priority",
};

const API_KEYS: Record<string, string> = Object.fromEntries(
  Object.entries(WIRE_KEYS).map(([api, wire]) => [wire, api]),
);

/** @returns the wire (snake_case) name of an option key */
export function toWireKey(key: string): string {
  return WIRE_KEYS[key] ?? key;
}

/** @returns the API (camelCase) name of an option key */
export function toApiKey(key: string): string {
  return API_KEYS[key] ?? key;
}

/** Maps an options object to wire keys, keeping key order. */
export function toWireOptions(options: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in options) {
    const value = options[key];
    if (value !== undefined) out[WIRE_KEYS[key] ?? key] = value;
  }
  return out;
}

/** Maps a wire options object to API keys, keeping key order. */
export function toApiOptions(options: Readonly<Record<string, unknown>>): MessageOptions {
  const out: MessageOptions = {};
  for (const key in options) out[API_KEYS[key] ?? key] = options[key];
  return out;
}
