import { QueueJoinTimeout, type JoinOptions } from "@dq/core";
import { canonicalQueueName, delayQueueName, sleep, uuid4 } from "@dq/core/adapter";
import type { DispatchClient } from "./dispatch-client.js";

// A RedisBroker's queue-level calls off a message's path: purge, join's polling, requeueing ids
// of its ack set, and raw enqueues for tests.

/** Drops every message of a queue and its delay queue, and its dead letters. */
export async function flushQueue(dispatcher: DispatchClient, queueName: string): Promise<void> {
  await dispatcher.dispatch(canonicalQueueName(queueName), "purge");
  await dispatcher.dispatch(delayQueueName(queueName), "purge");
}

/**
 * Polls `qsize` (queued + in-flight of `q` and `q.DQ`) every `interval` ms until it is 0.
 * @throws QueueJoinTimeout after `timeout` ms
 */
export async function joinQueue(
  dispatcher: DispatchClient,
  queueName: string,
  options: JoinOptions & { interval?: number },
): Promise<void> {
  const name = canonicalQueueName(queueName);
  const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout;
  const interval = options.interval ?? 100;
  for (;;) {
    const size = Number(await dispatcher.dispatch(name, "qsize"));
    if (size === 0) return;
    if (Date.now() >= deadline) {
      throw new QueueJoinTimeout(
        `timed out after ${options.timeout} ms waiting for queue ${JSON.stringify(name)} to drain (${size} left)`,
      );
    }
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
}

/** Puts fetched ids back on the tail of their queue (the script wakes idle consumers). */
export async function requeueIds(
  dispatcher: DispatchClient,
  queueName: string,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  const unpack = await dispatcher.maxUnpackSize();
  for (let index = 0; index < ids.length; index += unpack) {
    await dispatcher.dispatch(queueName, "requeue", ids.slice(index, index + unpack));
  }
}

/**
 * Stores raw bytes on a queue as another producer would, bypassing encoding (to test bad input).
 * @returns the redis message id used
 */
export async function enqueueRawBytes(
  dispatcher: DispatchClient,
  queueName: string,
  data: Buffer | string,
): Promise<string> {
  const id = uuid4();
  await dispatcher.dispatch(queueName, "enqueue", [id, data]);
  return id;
}
