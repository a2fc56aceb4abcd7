import type { Actor } from "../actor.js";
import type { Broker } from "../broker.js";
import type { Consumer, MessageProxy } from "../consumer.js";
import { ActorNotFound, InvalidOptionError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { ConsumerLoop } from "./consumer-loop.js";
import type { MessageRunner } from "./message-runner.js";

/** What {@link routeDelivery} needs from the worker. */
export interface RouterHost {
  readonly broker: Broker;
  readonly logger: Logger;
  /** Dead-letters (post-processes) the deliveries that will not run. */
  readonly runner: MessageRunner;
  /** Queues a valid delivery to run. */
  enqueue(actor: Actor, consumer: Consumer, proxy: MessageProxy): void;
}

/**
 * Routes one delivery: hold it if delayed, dead-letter it if unusable, else queue it.
 * @returns a Promise only when there is something to wait for (most deliveries are queued at once)
 */
export function routeDelivery(
  host: RouterHost,
  loop: ConsumerLoop,
  consumer: Consumer,
  proxy: MessageProxy,
): void | Promise<void> {
  const { broker, logger, runner } = host;
  const options = proxy.options;
  if ("eta" in options) {
    if (options.eta === null || options.eta === undefined) {
      delete options.eta;
    } else if (typeof options.eta !== "number" || !Number.isFinite(options.eta)) {
      logger.warn(
        `Message ${proxy.messageId} has an invalid eta ${JSON.stringify(options.eta)}; running it now.`,
      );
      options.eta = broker.clock.now();
    }
  }
  if (proxy.undecodable) {
    logger.error(
      `Dead-lettering a message on ${loop.queueName} that does not decode: ${(proxy.exception as Error).message}`,
      proxy.exception,
    );
    return runner.postProcess(proxy, consumer);
  }
  if (options.eta !== undefined) {
    const eta = options.eta;
    const before = broker.emitBefore("delayMessage", proxy);
    if (!before) return loop.holdDelayed(proxy, consumer, eta);
    return before.then(() => loop.holdDelayed(proxy, consumer, eta));
  }
  let actor: Actor;
  try {
    actor = broker.getActor(proxy.actorName);
    actor.validateArgs(proxy.args);
    // Option values from another producer are checked as the actor's own were at declaration.
    broker.validateOptions(proxy.options, `message ${proxy.messageId} (${proxy.actorName})`);
  } catch (error) {
    const what = ActorNotFound.isInstance(error)
      ? "for an unknown actor"
      : InvalidOptionError.isInstance(error)
        ? "with an invalid option"
        : "with invalid arguments";
    logger.error(`Dead-lettering message ${proxy.messageId} ${what}: ${(error as Error).message}`);
    proxy.fail();
    proxy.stuffException(error);
    return runner.postProcess(proxy, consumer);
  }
  host.enqueue(actor, consumer, proxy);
}
