import { sleep, type TimerClock } from "../clock.js";
import type { Consumer, MessageProxy } from "../consumer.js";
import { ConnectionError, Interrupt, RateLimitExceeded, Retry } from "../errors.js";
import type { Logger } from "../logger.js";

// Off the happy path of the `MessageRunner`: how a failed message is logged, and how one whose
// ack's work failed goes back to its queue.

const isError = (value: unknown): value is Error => value instanceof Error;

/** @returns `Name: message` for an error, else the value as a string */
export const describe = (error: unknown): string =>
  isError(error) ? `${error.name}: ${error.message}` : String(error);

/** What {@link returnMessage} needs from the runner's settings. */
export interface ReturnSettings {
  readonly logger: Logger;
  /** Wait between attempts while the broker is unreachable, in ms. */
  readonly restartDelay: number;
  /** Aborted when the worker stops: ends the retries. */
  readonly stopSignal: AbortSignal;
  readonly broker: { readonly clock: TimerClock };
}

/** Returns a message to its queue for redelivery, retrying while the broker is unreachable. */
export async function returnMessage(
  settings: ReturnSettings,
  proxy: MessageProxy,
  consumer: Consumer,
): Promise<void> {
  const { logger, stopSignal, restartDelay, broker } = settings;
  for (;;) {
    try {
      return await consumer.requeue([proxy]);
    } catch (error) {
      if (ConnectionError.isInstance(error) && !stopSignal.aborted) {
        logger.error(
          `Could not requeue message ${proxy.messageId}; retrying in ${restartDelay} ms.`,
          error,
        );
        await sleep(restartDelay, stopSignal, broker.clock);
        continue;
      }
      logger.error(
        `Could not requeue message ${proxy.messageId}; the broker will redeliver it.`,
        error,
      );
      return;
    }
  }
}

/**
 * Logs why a message failed: a retry at debug, a final interrupt or an exception the actor lists
 * in `throws` at info, anything else as an error.
 */
export function logFailure(
  logger: Logger,
  actor: { readonly actorName: string; readonly options: { readonly throws?: unknown } },
  proxy: MessageProxy,
  error: unknown,
): void {
  if (RateLimitExceeded.isInstance(error) || Retry.isInstance(error)) {
    logger.debug(
      `Message ${proxy.messageId} (${actor.actorName}) will be retried: ${(error as Error).message}`,
    );
    return;
  }
  if (Interrupt.isInstance(error) && error.final) {
    logger.info(`${error.name}: ${error.message}.`);
    return;
  }
  const throws: unknown = proxy.options.throws || actor.options.throws;
  const listed =
    throws &&
    (Array.isArray(throws) ? (throws as unknown[]) : [throws]).some(
      (cls) => typeof cls === "function" && error instanceof cls,
    );
  const text = `Failed to process message ${proxy.messageId} (${actor.actorName}) with ${listed ? "an expected" : "an unhandled"} exception.`;
  if (listed) logger.info(text, isError(error) ? `${error.name}: ${error.message}` : error);
  else logger.error(text, error);
}
