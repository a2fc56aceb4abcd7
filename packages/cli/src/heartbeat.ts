import { Middleware, TimeLimit, type Broker, type MessageProxy } from "@dq/core";
import { optionOr } from "@dq/core/adapter";
import type { RunningMessage, WorkerReport } from "./ipc.js";

/**
 * Tracks the time-limit deadline of every running message, so that the supervisor can tell a
 * blocked event loop (no heartbeat past the deadline) from a busy one. A message that starts
 * reports at once: if it blocks the loop right away, the supervisor already knows its deadline.
 * Heartbeats name the running messages, so that the supervisor can tell which one killed or stuck
 * a process.
 */
export class Heartbeat extends Middleware {
  private readonly deadlines = new Map<MessageProxy, number>();

  /**
   * @param broker - the broker whose TimeLimit middleware gives the default limit
   * @param onStart - called when a message starts (sends a heartbeat)
   */
  constructor(
    private readonly broker: Broker,
    private readonly onStart: () => void,
  ) {
    super();
  }

  private defaultLimit(): number {
    const timeLimit = this.broker.middleware.find((middleware) => middleware instanceof TimeLimit);
    return timeLimit ? timeLimit.timeLimit : Infinity;
  }

  override beforeProcessMessage(broker: Broker, message: MessageProxy): void {
    const limit = optionOr(broker, message, "timeLimit", this.defaultLimit());
    this.deadlines.set(message, Number.isFinite(limit) ? Date.now() + limit : Infinity);
    this.onStart();
  }

  override afterProcessMessage(_broker: Broker, message: MessageProxy): void {
    this.deadlines.delete(message);
  }

  override afterSkipMessage(_broker: Broker, message: MessageProxy): void {
    this.deadlines.delete(message);
  }

  /** The heartbeat to send now. */
  beat(): WorkerReport {
    let deadline = Infinity;
    const messages: RunningMessage[] = [];
    for (const [message, value] of this.deadlines) {
      deadline = Math.min(deadline, value);
      messages.push({ id: message.messageId, deadline: Number.isFinite(value) ? value : null });
    }
    return {
      type: "heartbeat",
      deadline: Number.isFinite(deadline) ? deadline : null,
      running: this.deadlines.size,
      messages,
    };
  }
}
