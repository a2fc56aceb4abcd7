import type { Broker } from "../broker.js";
import type { MessageProxy } from "../consumer.js";
import { SkipMessage } from "../errors.js";
import { checkCoreOption } from "../option-validation.js";
import { Middleware } from "./middleware.js";
import { optionOr } from "./option-lookup.js";

/**
 * Dead-letters messages older than `maxAge` ms (from their original timestamp, so retries count).
 * Actor and message option: `maxAge`.
 */
export class AgeLimit extends Middleware {
  readonly maxAge: number | undefined;

  /** @throws InvalidOptionError for a `maxAge` that is not a number of ms >= 0 */
  constructor(options: { maxAge?: number } = {}) {
    super();
    checkCoreOption("AgeLimit", "maxAge", options.maxAge);
    this.maxAge = options.maxAge;
  }

  override get actorOptions(): ReadonlySet<string> {
    return new Set(["maxAge"]);
  }

  override beforeProcessMessage(broker: Broker, message: MessageProxy): void {
    const maxAge = optionOr<number | undefined>(broker, message, "maxAge", this.maxAge);
    if (!maxAge) return;
    if (broker.clock.now() - message.messageTimestamp >= maxAge) {
      broker.logger.warn(`Message ${message.messageId} has exceeded its age limit.`);
      message.fail();
      // Dramatiq's text: the skip is the message's error, stored by Results as Python stores it.
      throw new SkipMessage("Message age limit exceeded");
    }
  }
}
