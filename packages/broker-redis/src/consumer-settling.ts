import type { MessageProxy } from "@dq/core";
import type { RedisConsumerHost, TrackedConsumer } from "./consumer-host.js";
import type { InFlightFetches } from "./in-flight-fetches.js";

// Off a message's path: how a RedisConsumer gives messages back to Redis other than by an ack
// (the requeue of deliveries, the deliveries the worker lets go of, and the return of its buffer
// when it closes).

/**
 * Puts the ids of `proxies` (those `delivered` holds) back on the tail of the queue, then drops
 * them from `delivered`.
 * @param release - runs when the requeue fails (the worker lets go of them either way)
 * @throws ConnectionClosed / ConnectionFailed when Redis is lost
 */
export async function requeueDelivered(
  host: RedisConsumerHost,
  queueName: string,
  delivered: Map<MessageProxy, string>,
  proxies: readonly MessageProxy[],
  release: () => void,
): Promise<void> {
  const ids: string[] = [];
  for (const proxy of proxies) {
    const id = delivered.get(proxy);
    if (id !== undefined) ids.push(id);
  }
  try {
    await host.requeueIds(queueName, ids);
  } catch (error) {
    // The ack set is reconciled before the next fetch.
    release();
    throw error;
  }
  for (const proxy of proxies) delivered.delete(proxy);
}

/**
 * Drops the `proxies` that `delivered` holds without settling them: their ids stay in the broker's
 * ack set, which the queue's next fetch (on any of the broker's consumers) reconciles.
 * @returns whether it held any
 */
export function releaseDelivered(
  host: RedisConsumerHost,
  delivered: Map<MessageProxy, string>,
  proxies: readonly MessageProxy[],
): boolean {
  let released = false;
  for (const proxy of proxies) released = delivered.delete(proxy) || released;
  if (released) host.acks.markUnreconciled();
  return released;
}

/**
 * The Redis side of closing a consumer that no longer delivers: no more hand-offs to this broker
 * for the queue (those already published land in `buffer` on sync and go back with it), the
 * fetches in flight arrive, then the buffer returns to the queue and the host forgets the
 * consumer. Never throws: what cannot go back now is left to the ack reconciler.
 */
export async function closeConsumer(
  host: RedisConsumerHost,
  consumer: TrackedConsumer,
  stopListening: () => void,
  inFlight: InFlightFetches,
  buffer: { id: string }[],
): Promise<void> {
  const { queueName } = consumer;
  try {
    await host.dispatch(queueName, "unwait", [], { maintenance: false });
    await host.wakeups.sync();
  } catch {
    // Redis is away: a hand-off to this broker finds no consumer and the hub requeues it.
  }
  stopListening();
  await inFlight.settled();
  const ids = buffer.splice(0).map((item) => item.id);
  try {
    await host.requeueIds(queueName, ids);
  } catch (error) {
    host.acks.markUnreconciled();
    host.logger.warn(
      `Could not return ${ids.length} prefetched message(s) of ${queueName}; they come back with the queue's next fetch once Redis is back (or when this broker's heartbeat expires).`,
      error,
    );
  } finally {
    host.forgetConsumer(consumer);
  }
}
