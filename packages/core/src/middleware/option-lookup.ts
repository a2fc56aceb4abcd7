import type { Actor } from "../actor.js";
import type { Broker } from "../broker.js";
import type { MessageProxy } from "../consumer.js";

/** The message's actor on this broker, or undefined when it is not declared here. */
export function findActor(broker: Broker, message: MessageProxy): Actor | undefined {
  return broker.actors.get(message.actorName);
}

/**
 * Dramatiq's `message.options.get(k) or actor.options.get(k) or default`: a falsy message value
 * (0, false, null) falls through to the actor, then to the default.
 */
export function optionOr<T>(broker: Broker, message: MessageProxy, key: string, fallback: T): T {
  return (
    (message.options[key] as T | undefined) ||
    (findActor(broker, message)?.options[key] as T | undefined) ||
    fallback
  );
}

/**
 * Dramatiq's `message.options.get(k, actor.options.get(k, default))`: a message value that is
 * present wins even when falsy (`maxRetries: null` means forever; `0` means none).
 */
export function optionExplicit<T>(
  broker: Broker,
  message: MessageProxy,
  key: string,
  fallback: T,
): T {
  if (key in message.options && message.options[key] !== undefined)
    return message.options[key] as T;
  const actorOptions = findActor(broker, message)?.options;
  if (actorOptions && key in actorOptions && actorOptions[key] !== undefined)
    return actorOptions[key] as T;
  return fallback;
}
