// What one round of a leader fires for one schedule, and the message of one slot.
import type { Broker, Message } from "@dq/core";
import { slotJitter, slotMessageId } from "./message-id.js";
import type { CompiledSchedule, MisfirePolicy } from "./spec.js";

/**
 * The slots to fire among those due (oldest first): slots at most `graceMs` late always fire;
 * older (missed) ones as the policy says — `skip` none, `once` the latest, `all` each.
 * @returns the slots to fire and how many were missed
 */
export function planFires(
  due: readonly number[],
  now: number,
  graceMs: number,
  misfire: MisfirePolicy,
  paused: boolean,
): { fire: number[]; missed: number } {
  const onTime = due.filter((slot) => now - slot <= graceMs);
  const missed = due.filter((slot) => now - slot > graceMs);
  if (paused) return { fire: [], missed: missed.length };
  if (misfire === "all") return { fire: [...due], missed: missed.length };
  if (misfire === "once" && missed.length)
    return { fire: [missed.at(-1)!, ...onTime], missed: missed.length };
  return { fire: onTime, missed: missed.length };
}

/**
 * The message of one slot, built with the actor's own message builder (its checks apply), with the
 * slot's deterministic id and the options `scheduled_at` (the slot, ISO 8601 UTC) and `schedule`
 * (the schedule's name); `delay` is the slot's jitter.
 * @throws ActorNotFound when the actor is not declared on the broker
 */
export function slotMessage(
  broker: Broker,
  compiled: CompiledSchedule,
  slot: number,
): { message: Message; delay: number } {
  const { name, spec } = compiled;
  const built = broker.getActor(spec.actor).messageWithOptions({
    ...(spec.options ?? {}),
    args: [...(spec.args ?? [])],
    kwargs: { ...(spec.kwargs ?? {}) },
  });
  const message = built.copy({
    messageId: slotMessageId(name, slot),
    options: { scheduled_at: new Date(slot).toISOString(), schedule: name },
  });
  return { message, delay: slotJitter(name, slot, spec.jitterMs ?? 0) };
}
