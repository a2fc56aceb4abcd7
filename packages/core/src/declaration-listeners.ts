import type { DeclarationListener } from "./broker-options.js";
import type { Logger } from "./logger.js";

/**
 * A broker's declaration listeners (`broker.onDeclare`): each is told of every queue and delay
 * queue, those declared before it was added and those declared later. A listener's failure is
 * logged, never thrown.
 */
export class DeclarationListeners {
  private listeners: DeclarationListener[] = [];

  constructor(private readonly logger: Logger) {}

  /**
   * Adds a listener and tells it of the queues and delay queues declared so far.
   * @returns a function that removes the listener
   */
  add(
    listener: DeclarationListener,
    queues: Iterable<string>,
    delayQueues: Iterable<string>,
  ): () => void {
    this.listeners = [...this.listeners, listener];
    for (const queue of queues) this.tellOne(listener, queue, "queue");
    for (const queue of delayQueues) this.tellOne(listener, queue, "delayQueue");
    return () => void (this.listeners = this.listeners.filter((l) => l !== listener));
  }

  /** Tells every listener of a newly declared queue or delay queue. */
  tell(queueName: string, kind: "queue" | "delayQueue"): void {
    for (const listener of this.listeners) this.tellOne(listener, queueName, kind);
  }

  private tellOne(
    listener: DeclarationListener,
    queueName: string,
    kind: "queue" | "delayQueue",
  ): void {
    try {
      listener(queueName, kind);
    } catch (error) {
      this.logger.error(`Unexpected failure in a declaration listener for ${queueName}`, error);
    }
  }
}
