import {
  getEncoder,
  InvalidOptionError,
  JSONEncoder,
  Message,
  messageJson,
  type MessageOptions,
} from "@dq/core";
import { uuid4 } from "@dq/core/adapter";
import type { DispatchArgument, DispatchClient } from "./dispatch-client.js";

/** Messages per `enqueue_many` call: keeps each script call short (Redis runs it atomically). */
const ENQUEUE_BATCH = 500;

function lastKey(object: object): string | undefined {
  let last: string | undefined;
  for (const key in object) last = key;
  return last;
}

/**
 * A copy of `message` with a fresh `redisMessageId`, where Python puts it: in place when the
 * message already has one, else after the existing options (before an `eta` added by this enqueue).
 */
export function withRedisMessageId<R>(message: Message<R>): Message<R> {
  const id = uuid4();
  const current = message.options;
  let options: MessageOptions;
  if ("redisMessageId" in current) {
    options = { ...current, redisMessageId: id };
  } else if ("eta" in current && lastKey(current) === "eta") {
    const { eta, ...rest } = current;
    options = { ...rest, redisMessageId: id, eta };
  } else {
    options = { ...current, redisMessageId: id };
  }
  return new Message<R>({
    queueName: message.queueName,
    actorName: message.actorName,
    args: message.args,
    kwargs: message.kwargs,
    options,
    messageId: message.messageId,
    messageTimestamp: message.messageTimestamp,
  });
}

/**
 * A message's bytes for the dispatch script. The default encoder's output is pure ASCII
 * (messageJson), so the string is the exact bytes; passed as a string, ioredis writes it without
 * an intermediate Buffer and a second copy.
 * @throws InvalidOptionError when the message has no `redisMessageId`
 */
function encodeForDispatch(message: Message): DispatchArgument {
  if (typeof message.options.redisMessageId !== "string")
    throw new InvalidOptionError(`message ${message.messageId} has no redisMessageId`);
  return getEncoder().constructor === JSONEncoder
    ? messageJson(message.asDict())
    : message.encode();
}

/**
 * Enqueues the messages: one `enqueue` call for a single message of a queue, else
 * `enqueue_many` calls of up to ENQUEUE_BATCH messages (the effects of one `enqueue` per
 * message, in order). The script publishes the wake-ups. Not atomic: when a message fails to
 * encode, the chunks before it are already enqueued (as with one `enqueue` per message).
 * @throws ConnectionClosed / ConnectionFailed when Redis is lost or unreachable
 */
export function publishMessages(
  dispatcher: DispatchClient,
  messages: readonly Message[],
): Promise<void> {
  try {
    if (messages.length === 1) {
      // One send: no async function and no await on its way to the write.
      const message = messages[0]!;
      const data = encodeForDispatch(message);
      return dispatcher.dispatch(message.queueName, "enqueue", [
        message.options.redisMessageId!,
        data,
      ]) as Promise<void>;
    }
  } catch (error) {
    return Promise.reject(error);
  }
  return publishMany(dispatcher, messages);
}

async function publishMany(
  dispatcher: DispatchClient,
  messages: readonly Message[],
): Promise<void> {
  if (messages.length === 0) return;
  const unpack = await dispatcher.maxUnpackSize();
  const calls: Promise<unknown>[] = [];
  const send = (queueName: string, chunk: DispatchArgument[]) => {
    const count = chunk.length / 2;
    // Maintenance as likely as with one call per message.
    let maintenance: 0 | 1 = 0;
    for (let roll = 0; roll < count && !maintenance; roll++)
      maintenance = dispatcher.rollMaintenance();
    const command = count === 1 ? "enqueue" : "enqueue_many";
    calls.push(
      dispatcher.send(
        dispatcher.arguments(queueName, command, maintenance, unpack, chunk),
        "utf8",
        true,
      ),
    );
  };
  // Each full chunk is written as soon as it is encoded, so Redis runs it while the next one is
  // encoded (the two took turns before: ~40 % of a bulk enqueue's time).
  const chunks = new Map<string, DispatchArgument[]>();
  let failed = false;
  let failure: unknown;
  try {
    for (const message of messages) {
      const data = encodeForDispatch(message);
      let chunk = chunks.get(message.queueName);
      if (!chunk) chunks.set(message.queueName, (chunk = []));
      if (chunk.push(message.options.redisMessageId!, data) === 2 * ENQUEUE_BATCH) {
        send(message.queueName, chunk);
        chunks.set(message.queueName, []);
      }
    }
    for (const [queueName, chunk] of chunks) if (chunk.length > 0) send(queueName, chunk);
  } catch (error) {
    failed = true;
    failure = error;
  }
  // Every call sent is awaited before an error is reported, so none is left unobserved.
  const results = await Promise.allSettled(calls);
  if (failed) throw failure;
  // send() already translated its failures into dq's errors.
  for (const result of results) if (result.status === "rejected") throw result.reason;
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
