import type { Broker } from "../broker.js";
import type { MessageProxy } from "../consumer.js";
import { Message } from "../message.js";
import { holdAck } from "../settlement.js";
import { Middleware, type ProcessOutcome } from "./middleware.js";
import { findActor } from "./option-lookup.js";

/**
 * Runs pipelines: after a successful step, enqueues `pipeTarget`, with the result appended to its
 * arguments unless `pipeIgnore` (the next message's option, else this actor's). The step's message
 * is acked only once the next one is enqueued; when that fails it is requeued (broker unreachable)
 * or dead-lettered with the reason.
 */
export class Pipelines extends Middleware {
  override get actorOptions(): ReadonlySet<string> {
    return new Set(["pipeIgnore", "pipeTarget"]);
  }

  override afterProcessMessage(
    broker: Broker,
    message: MessageProxy,
    { result, exception }: ProcessOutcome,
  ): void | Promise<unknown> {
    if (exception !== undefined || message.failed) return;
    const target = message.options.pipeTarget;
    if (!target) return;
    // The message is acked only once the next step is enqueued (see `holdAck`).
    return holdAck(this.enqueueNext(broker, message, target, result));
  }

  private async enqueueNext(
    broker: Broker,
    message: MessageProxy,
    target: NonNullable<MessageProxy["options"]["pipeTarget"]>,
    result: unknown,
  ): Promise<unknown> {
    let next = Message.fromDict(target);
    const pipeIgnore = next.options.pipeIgnore || findActor(broker, message)?.options.pipeIgnore;
    if (!pipeIgnore)
      next = next.copy({ args: [...next.args, result === undefined ? null : result] });
    return broker.enqueue(next, { delay: next.options.delay || undefined });
  }
}
