import {
  Message,
  Middleware,
  type Broker,
  type GroupCompletionMiddleware,
  type MessageProxy,
  type ProcessOutcome,
} from "@dq/core";
import { optionValidator, type OptionValidator, type RateLimiterBackend } from "@dq/core/adapter";
import { Barrier } from "./barrier.js";
import { wholeNumber } from "./validation.js";

/** Options of `GroupCallbacks`. */
export interface GroupCallbacksOptions {
  /** How long a group's barrier lives, in ms (default 86 400 000: one day). */
  barrierTtl?: number;
}

const isMessageShape = (value: unknown) =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as { actor_name?: unknown }).actor_name === "string" &&
  typeof (value as { queue_name?: unknown }).queue_name === "string";

const GROUP_OPTION_VALIDATORS: Readonly<Record<string, OptionValidator>> = {
  groupCompletionUuid: optionValidator(
    "a group id (a non-empty string)",
    (value) => value === null || (typeof value === "string" && value.length > 0),
  ),
  groupCompletionCallbacks: optionValidator(
    "a list of messages in wire shape",
    (value) => value === null || (Array.isArray(value) && value.every(isMessageShape)),
  ),
};

/**
 * Runs a group's completion callbacks once every child of the group has succeeded. `group.run()`
 * creates a barrier keyed by the group's uuid with one party per child (through
 * `prepareGroupCompletion`); after each child's successful processing this middleware arrives at
 * the barrier without blocking, and the party that clears it enqueues every callback message.
 * Wire-compatible with Dramatiq's `GroupCallbacks` (options `group_completion_uuid` and
 * `group_completion_callbacks`), so Python and Node workers can finish the same group.
 *
 * As in Dramatiq, a child that fails for good means the callbacks never run, and a child finishing
 * after the barrier expired runs them again.
 */
export class GroupCallbacks extends Middleware implements GroupCompletionMiddleware {
  readonly backend: RateLimiterBackend;
  readonly barrierTtl: number;

  /** @throws InvalidOptionError for a `barrierTtl` that is not a positive integer */
  constructor(backend: RateLimiterBackend, options: GroupCallbacksOptions = {}) {
    super();
    this.backend = backend;
    this.barrierTtl = wholeNumber("GroupCallbacks", "barrierTtl", options.barrierTtl ?? 86_400_000);
  }

  /**
   * The message options this middleware reads, checked when a worker receives a message: a group
   * id that is not a string, or callbacks that are not a list of messages, dead-letter the message
   * with the reason instead of failing in the barrier after the actor ran.
   */
  override get optionValidators(): Readonly<Record<string, OptionValidator>> {
    return GROUP_OPTION_VALIDATORS;
  }

  /** Creates the barrier of group `groupId` for `parties` children (called by `group.run()`). */
  async prepareGroupCompletion(groupId: string, parties: number): Promise<void> {
    await new Barrier(this.backend, groupId, { ttl: this.barrierTtl }).create(parties);
  }

  override async afterProcessMessage(
    broker: Broker,
    message: MessageProxy,
    { exception }: ProcessOutcome,
  ): Promise<void> {
    if (exception !== undefined || message.failed) return;
    const groupId = message.options.groupCompletionUuid;
    const callbacks = message.options.groupCompletionCallbacks;
    if (!groupId || !callbacks?.length) return;
    const barrier = new Barrier(this.backend, groupId, { ttl: this.barrierTtl });
    if (await barrier.wait({ block: false })) {
      for (const callback of callbacks) await broker.enqueue(Message.fromDict(callback));
    }
  }
}
