import type { Broker } from "../broker.js";
import type { MessageProxy } from "../consumer.js";
import { Shutdown } from "../errors.js";
import { checkCoreOption } from "../option-validation.js";
import { Middleware } from "./middleware.js";
import { findActor } from "./option-lookup.js";

/**
 * When the worker shuts down, interrupts running messages whose `notifyShutdown` is true (first
 * defined of message option, actor option, default): their signal aborts with `Shutdown` and they
 * fail with it. Others may finish within the shutdown timeout.
 */
export class ShutdownNotifications extends Middleware {
  readonly notifyShutdown: boolean;
  private readonly running = new Set<MessageProxy>();

  /** @throws InvalidOptionError for a `notifyShutdown` that is not a boolean */
  constructor(options: { notifyShutdown?: boolean } = {}) {
    super();
    checkCoreOption("ShutdownNotifications", "notifyShutdown", options.notifyShutdown);
    this.notifyShutdown = options.notifyShutdown ?? false;
  }

  override get actorOptions(): ReadonlySet<string> {
    return new Set(["notifyShutdown"]);
  }

  private shouldNotify(broker: Broker, message: MessageProxy): boolean {
    const fromMessage = message.options.notifyShutdown;
    if (fromMessage !== undefined && fromMessage !== null) return Boolean(fromMessage);
    const fromActor = findActor(broker, message)?.options.notifyShutdown;
    if (fromActor !== undefined && fromActor !== null) return Boolean(fromActor);
    return this.notifyShutdown;
  }

  override beforeProcessMessage(broker: Broker, message: MessageProxy): void {
    if (this.shouldNotify(broker, message)) this.running.add(message);
  }

  override afterProcessMessage(_broker: Broker, message: MessageProxy): void {
    this.running.delete(message);
  }

  override afterSkipMessage(_broker: Broker, message: MessageProxy): void {
    this.running.delete(message);
  }

  override beforeWorkerShutdown(): void {
    for (const message of this.running) {
      message.interrupt(
        new Shutdown(
          `worker shutdown while processing message ${message.messageId} (${message.actorName})`,
        ),
      );
    }
    this.running.clear();
  }
}
