import { Middleware, type Broker, type MessageProxy, type ProcessOutcome } from "@dq/core";
import type { SchedulerStore } from "./store.js";

/**
 * Worker middleware that records the outcome of each scheduled message (`"succeeded"` or
 * `"failed: <error>"`) as its schedule's last outcome, in the scheduler's store. Add it to the
 * workers' broker: `broker.addMiddleware(new SchedulerOutcomes(new RedisSchedulerStore({ url })))`.
 */
export class SchedulerOutcomes extends Middleware {
  constructor(private readonly store: SchedulerStore) {
    super();
  }

  override async afterProcessMessage(
    _broker: Broker,
    message: MessageProxy,
    outcome: ProcessOutcome,
  ): Promise<void> {
    const name = message.options.schedule;
    if (typeof name !== "string") return;
    const lastOutcome =
      outcome.exception === undefined
        ? "succeeded"
        : `failed: ${outcome.exception instanceof Error ? outcome.exception.message : JSON.stringify(outcome.exception)}`;
    await this.store.write(name, { lastOutcome });
  }
}
