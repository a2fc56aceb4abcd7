import type { Consumer, MessageProxy } from "../consumer.js";
import type { Logger } from "../logger.js";

/** The messages a stopping worker still holds, grouped by the consumer to return them through. */
export class MessageReturns {
  private readonly returns = new Map<Consumer, MessageProxy[]>();

  /** Adds a message to return through its consumer (none: nothing to return it to). */
  give(consumer: Consumer | undefined, proxy: MessageProxy): void {
    if (!consumer) return;
    const list = this.returns.get(consumer) ?? [];
    list.push(proxy);
    this.returns.set(consumer, list);
  }

  /**
   * Requeues every message given, one consumer after another; failures are logged.
   * @returns how many messages were returned to the broker
   */
  async requeueAll(logger: Logger): Promise<number> {
    let requeued = 0;
    for (const [consumer, proxies] of this.returns) {
      requeued += proxies.length;
      await consumer
        .requeue(proxies)
        .catch((error: unknown) => logger.error("Could not return messages to the broker.", error));
    }
    return requeued;
  }
}
