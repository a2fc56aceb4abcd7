import type { Broker } from "../broker.js";
import type { MessageProxy } from "../consumer.js";
import { describeError } from "../results/result-backend.js";
import { holdAck } from "../settlement.js";
import { Middleware, type ProcessOutcome } from "./middleware.js";
import { optionOr } from "./option-lookup.js";

/**
 * Sends `onSuccess` the message data and the result after a success, and `onFailure` the message
 * data and `{ type, message }` after every failure (including ones that will be retried). Both
 * options name actors (an `Actor` given to `actor()` or `messageWithOptions` becomes its name).
 * The message is acked only once its callback is enqueued; when that fails it is requeued (broker
 * unreachable) or dead-lettered with the reason.
 */
export class Callbacks extends Middleware {
  override get actorOptions(): ReadonlySet<string> {
    return new Set(["onSuccess", "onFailure"]);
  }

  // Synchronous when there is nothing to send: most messages have no callbacks.
  override afterProcessMessage(
    broker: Broker,
    message: MessageProxy,
    { result, exception }: ProcessOutcome,
  ): void | Promise<unknown> {
    // The message is acked only once its callback is enqueued (see `holdAck`).
    if (exception === undefined) {
      const target = optionOr<string | undefined>(broker, message, "onSuccess", undefined);
      if (target)
        return holdAck(
          send(broker, target, message.asDict(), result === undefined ? null : result),
        );
    } else {
      const target = optionOr<string | undefined>(broker, message, "onFailure", undefined);
      if (target) {
        const { type, msg } = describeError(exception);
        return holdAck(send(broker, target, message.asDict(), { type, message: msg }));
      }
    }
  }
}

async function send(broker: Broker, target: string, ...args: unknown[]): Promise<unknown> {
  return broker.getActor(target).send(...args);
}
