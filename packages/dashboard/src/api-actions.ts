import { getEncoder, Message, type Broker, type MessageData } from "@dq/core";
import { uuid4 } from "@dq/core/adapter";
import type { Reads } from "./api-reads.js";
import { badRequest, notFound } from "./http.js";
import { decodeStored } from "./message-view.js";
import type { DashboardOptions } from "./options.js";
import { objectBody, STATES } from "./params.js";
import type { MessageState } from "./sources/source.js";

/** At most this many ids per retry request. */
const MAX_IDS = 10_000;

/** Options a re-enqueued copy does not inherit: broker bookkeeping and the last failure. */
const DROPPED_OPTIONS = ["eta", "retries", "traceback", "redis_message_id", "requeue_timestamp"];

/** The JSON API's state-changing requests (checked for CSRF, read-only and authorize before). */
export class Actions {
  constructor(
    private readonly reads: Reads,
    private readonly brokers: ReadonlyMap<string, Broker>,
    private readonly options: DashboardOptions,
  ) {}

  async retry(brokerId: string, queue: string, body: unknown): Promise<{ retried: number }> {
    const fields = objectBody(body);
    const source = await this.reads.queue(brokerId, queue);
    if (fields.all === true) return { retried: await source.retry(queue, "all") };
    const ids = fields.ids;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === "string")) {
      throw badRequest('body must be { "ids": ["<id>", ...] } or { "all": true }');
    }
    if (ids.length > MAX_IDS)
      throw badRequest(`at most ${MAX_IDS} ids per request, got ${ids.length}`);
    return { retried: await source.retry(queue, ids) };
  }

  async delete(
    brokerId: string,
    queue: string,
    id: string,
    body: unknown,
  ): Promise<{ deleted: boolean }> {
    const state = objectBody(body).state;
    if (typeof state !== "string" || !(STATES as readonly string[]).includes(state)) {
      throw badRequest(`state must be one of ${STATES.join(", ")}, got ${JSON.stringify(state)}`);
    }
    const source = await this.reads.queue(brokerId, queue);
    return { deleted: await source.delete(queue, id, state as MessageState) };
  }

  async purge(brokerId: string, queue: string, body: unknown): Promise<{ purged: number }> {
    const confirm = objectBody(body).confirm;
    if (confirm !== queue) {
      throw badRequest(
        `confirm must be the queue name ${JSON.stringify(queue)}, got ${JSON.stringify(confirm)}`,
      );
    }
    const source = await this.reads.queue(brokerId, queue);
    return { purged: await source.purge(queue) };
  }

  /** Enqueues a copy of a message with new args (and kwargs), under a new id. */
  async requeue(
    brokerId: string,
    queue: string,
    id: string,
    body: unknown,
  ): Promise<{ id: string }> {
    const fields = objectBody(body);
    if (!Array.isArray(fields.args)) throw badRequest("args must be an array");
    const kwargs = fields.kwargs;
    if (
      kwargs !== undefined &&
      (typeof kwargs !== "object" || kwargs === null || Array.isArray(kwargs))
    ) {
      throw badRequest("kwargs must be an object");
    }
    const source = await this.reads.queue(brokerId, queue);
    const stored = await source.get(queue, id);
    if (!stored)
      throw notFound(`no message ${JSON.stringify(id)} in queue ${JSON.stringify(queue)}`);
    const original = decodeStored(stored.data);
    if (!original)
      throw badRequest(`message ${JSON.stringify(id)} does not decode: it cannot be re-enqueued`);
    const options = { ...(original.options ?? {}) } as Record<string, unknown>;
    for (const name of DROPPED_OPTIONS) delete options[name];
    const dict: MessageData = {
      ...original,
      queue_name: queue,
      args: fields.args as unknown[],
      kwargs: (kwargs as Record<string, unknown> | undefined) ?? original.kwargs ?? {},
      options,
      message_id: uuid4(),
      message_timestamp: Date.now(),
    };
    let message: Message;
    try {
      // Round trip through the encoder: what cannot be encoded is refused before enqueueing.
      message = Message.fromDict(getEncoder().decode(getEncoder().encode(dict)));
    } catch (error) {
      throw badRequest(
        `cannot build the message: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const broker = this.brokers.get(brokerId)!;
    const enqueued = await broker.enqueue(message);
    // The id the dashboard's URLs use: Redis keeps messages under their redis_message_id.
    const redisId = enqueued.options.redisMessageId;
    return { id: typeof redisId === "string" ? redisId : enqueued.messageId };
  }

  async abort(brokerId: string, queue: string, id: string, body: unknown): Promise<{ ok: true }> {
    const hook = this.options.abort;
    if (!hook) throw notFound("abort is not configured (pass `abort` to createDashboard)");
    const mode = objectBody(body).mode ?? "abort";
    if (mode !== "cancel" && mode !== "abort") {
      throw badRequest(`mode must be "cancel" or "abort", got ${JSON.stringify(mode)}`);
    }
    const source = await this.reads.queue(brokerId, queue);
    // Abort works on Dramatiq's message_id: translate a stored id (Redis) when the message is found.
    const stored = await source.get(queue, id);
    const messageId = (stored && decodeStored(stored.data)?.message_id) ?? id;
    await hook.abort(messageId, { mode });
    return { ok: true };
  }

  async schedule(name: string, verb: "pause" | "resume"): Promise<{ ok: true }> {
    const scheduler = this.options.scheduler;
    if (!scheduler)
      throw notFound("no scheduler is configured (pass `scheduler` to createDashboard)");
    const known = await scheduler.list();
    if (!known.some((schedule) => schedule.name === name)) {
      throw notFound(`unknown schedule ${JSON.stringify(name)}`);
    }
    await (verb === "pause" ? scheduler.pause(name) : scheduler.resume(name));
    return { ok: true };
  }
}
