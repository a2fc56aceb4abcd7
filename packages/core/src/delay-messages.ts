import type { Clock } from "./clock.js";
import { InvalidOptionError } from "./errors.js";
import type { Message } from "./message.js";
import { delayQueueName } from "./queue-names.js";

/**
 * Routes messages sent with a delay through their delay queues (`.DQ`), with an `eta` of now plus
 * the delay; without a delay (or a delay of 0) the messages are returned as they are.
 * @throws InvalidOptionError when the delay is not a number of milliseconds >= 0
 */
export function delayMessages<R>(
  messages: readonly Message<R>[],
  delay: number | undefined,
  clock: Clock,
): readonly Message<R>[] {
  if (delay !== undefined && (!Number.isFinite(delay) || delay < 0)) {
    throw new InvalidOptionError(
      `invalid delay ${String(delay)}: a delay is a number of milliseconds >= 0`,
    );
  }
  if (!delay) return messages;
  return messages.map((message) =>
    message.copy({
      queueName: delayQueueName(message.queueName),
      options: { eta: clock.now() + delay },
    }),
  );
}
