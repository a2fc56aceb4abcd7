import { Message } from "@dq/core";
import { canonicalQueueName } from "@dq/core/adapter";
import type { RedisConnection } from "./connection.js";

/** Message counts of one queue, from `getQueueMessageCounts`. */
export interface QueueMessageCounts {
  /** Waiting on `ns:q`. */
  ready: number;
  /** Stored in `ns:q.msgs` but not waiting: fetched by some worker and not yet acked. */
  inFlight: number;
  /** Stored in `ns:q.DQ.msgs`: delayed messages, waiting or held by workers. */
  delayed: number;
  /** Dead letters in `ns:q.XQ`. */
  deadLettered: number;
}

/** A dead-lettered message, from `getDeadLetters`. */
export interface DeadLetter {
  /** The id it had in Redis (its `redis_message_id`). */
  redisMessageId: string;
  /** UNIX ms when it was dead-lettered. */
  deadLetteredAt: number;
  /** The stored bytes. */
  data: Buffer;
  /** The decoded message, or undefined when the bytes do not decode. */
  message: Message | undefined;
}

/**
 * Counts a queue's messages with plain reads (no maintenance, no heartbeat).
 * @throws ConnectionClosed / ConnectionFailed when Redis is lost or unreachable
 */
export async function queueMessageCounts(
  connection: RedisConnection,
  namespace: string,
  queueName: string,
): Promise<QueueMessageCounts> {
  const name = canonicalQueueName(queueName);
  const key = `${namespace}:${name}`;
  const results = await connection.command(() =>
    connection.client
      .pipeline()
      .llen(key)
      .hlen(`${key}.msgs`)
      .hlen(`${key}.DQ.msgs`)
      .zcard(`${key}.XQ`)
      .exec(),
  );
  const [ready, stored, delayed, deadLettered] = (results ?? []).map(([error, value]) => {
    if (error) throw connection.translate(error);
    return Number(value);
  });
  return {
    ready: ready!,
    inFlight: Math.max(0, stored! - ready!),
    delayed: delayed!,
    deadLettered: deadLettered!,
  };
}

/**
 * Lists a queue's dead letters (from `ns:q.XQ`), oldest first.
 * @throws ConnectionClosed / ConnectionFailed when Redis is lost or unreachable
 */
export async function deadLetters(
  connection: RedisConnection,
  namespace: string,
  queueName: string,
): Promise<DeadLetter[]> {
  const key = `${namespace}:${canonicalQueueName(queueName)}.XQ`;
  const scored = await connection.command(() => connection.client.zrange(key, 0, -1, "WITHSCORES"));
  if (scored.length === 0) return [];
  const ids = scored.filter((_, index) => index % 2 === 0);
  const data = await connection.command(() => connection.client.hmgetBuffer(`${key}.msgs`, ...ids));
  const letters: DeadLetter[] = [];
  ids.forEach((id, index) => {
    const bytes = data[index];
    if (!bytes) return;
    let message: Message | undefined;
    try {
      message = Message.decode(bytes);
    } catch {
      message = undefined;
    }
    letters.push({
      redisMessageId: id,
      deadLetteredAt: Number(scored[index * 2 + 1]),
      data: bytes,
      message,
    });
  });
  return letters;
}
