import type { Broker } from "../broker.js";
import type { MessageProxy } from "../consumer.js";
import { Message } from "../message.js";
import { Middleware, type ProcessOutcome } from "./middleware.js";
import { findActor } from "./option-lookup.js";

/**
 * Runs pipelines: after a successful step, enqueues `pipeTarget`, with the result appended to its
 * arguments unless `pipeIgnore` (the next message's option, else this actor's).
 */
export class Pipelines extends Middleware {
  override get actorOptions(): ReadonlySet<string> {
    return new Set(["pipeIgnore", "pipeTarget"]);
  }

  override afterProcessMessage(broker: Broker, message: MessageProxy, { result, exception }: ProcessOutcome): void | Promise<unknown> {
    if (exception !== undefined || message.failed) return;
    const target = message.options.pipeTarget;
    if (!target) return;
    let next = Message.fromDict(target);
    const pipeIgnore = next.options.pipeIgnore || findActor(broker, message)?.options.pipeIgnore;
    if (!pipeIgnore) next = next.copy({ args: [...next.args, result === undefined ? null : result] });
    return broker.enqueue(next, { delay: next.options.delay || undefined });
  }
}
