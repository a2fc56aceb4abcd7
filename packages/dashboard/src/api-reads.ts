import { describeMessage, summarize, type MessageSummary } from "./message-view.js";
import { badRequest, notFound } from "./http.js";
import { MAX_LIMIT, MAX_PAGE, ORDERS, Query, STATES } from "./params.js";
import type { DashboardOptions } from "./options.js";
import type { Source, StoredMessage, WorkerInfo } from "./sources/source.js";

/** How many minutes of rates the overview carries. */
const RATE_MINUTES = 30;

/** The body of `api/overview` (and of the SSE `overview` event). */
export interface Overview {
  queues: {
    broker: string;
    queue: string;
    ready: number;
    delayed: number;
    inFlight: number;
    dead: number;
  }[];
  workers: { alive: number };
  rates: {
    broker: string;
    processed: { t: number; n: number }[];
    failed: { t: number; n: number }[];
  }[];
  at: number;
  errors?: { broker: string; message: string }[];
}

/** The JSON API's reads over the sources. */
export class Reads {
  constructor(
    readonly sources: ReadonlyMap<string, Source>,
    private readonly options: DashboardOptions,
  ) {}

  /** The source of a broker id, or 404. */
  source(id: string): Source {
    const source = this.sources.get(id);
    if (!source) {
      throw notFound(
        `unknown broker ${JSON.stringify(id)}; known: ${[...this.sources.keys()].join(", ")}`,
      );
    }
    return source;
  }

  /** The source and a queue it has, or 404. */
  async queue(brokerId: string, queue: string): Promise<Source> {
    const source = this.source(brokerId);
    if (!(await source.hasQueue(queue))) {
      throw notFound(
        `unknown queue ${JSON.stringify(queue)} on broker ${JSON.stringify(brokerId)}`,
      );
    }
    return source;
  }

  async overview(): Promise<Overview> {
    const overview: Overview = { queues: [], workers: { alive: 0 }, rates: [], at: Date.now() };
    await Promise.all(
      [...this.sources.values()].map(async (source) => {
        try {
          const queues = await source.queues();
          const [counts, rates, alive] = await Promise.all([
            source.counts(queues),
            source.rates(queues, RATE_MINUTES),
            source.alive(),
          ]);
          queues.forEach((queue, i) =>
            overview.queues.push({ broker: source.id, queue, ...counts[i]! }),
          );
          overview.rates.push({ broker: source.id, ...rates });
          overview.workers.alive += alive;
        } catch (error) {
          (overview.errors ??= []).push({ broker: source.id, message: errorText(error) });
        }
      }),
    );
    overview.queues.sort(
      (a, b) => a.broker.localeCompare(b.broker) || a.queue.localeCompare(b.queue),
    );
    overview.rates.sort((a, b) => a.broker.localeCompare(b.broker));
    return overview;
  }

  async messages(brokerId: string, queue: string, query: Query): Promise<Record<string, unknown>> {
    const state = query.oneOf("state", STATES, "ready");
    const order = query.oneOf("order", ORDERS, "oldest");
    const page = query.integer("page", 0, 0, MAX_PAGE);
    const limit = query.integer("limit", 50, 1, MAX_LIMIT);
    const source = await this.queue(brokerId, queue);
    const result = await source.page(queue, state, order, page, limit);
    return {
      total: result.total,
      page,
      limit,
      state,
      order,
      messages: result.messages.map((message) => summarize(message, queue)),
    };
  }

  async message(brokerId: string, queue: string, id: string): Promise<Record<string, unknown>> {
    const source = await this.queue(brokerId, queue);
    const stored = await source.get(queue, id);
    if (!stored)
      throw notFound(`no message ${JSON.stringify(id)} in queue ${JSON.stringify(queue)}`);
    return describeMessage(stored, this.options.resultBackend);
  }

  async workers(): Promise<{
    workers: WorkerInfo[];
    errors?: { broker: string; message: string }[];
  }> {
    const workers: WorkerInfo[] = [];
    const errors: { broker: string; message: string }[] = [];
    await Promise.all(
      [...this.sources.values()].map(async (source) => {
        try {
          workers.push(...(await source.workers()));
        } catch (error) {
          errors.push({ broker: source.id, message: errorText(error) });
        }
      }),
    );
    workers.sort((a, b) => b.lastSeen - a.lastSeen);
    return errors.length ? { workers, errors } : { workers };
  }

  /** Search by id (direct look-up), actor name or args (bounded scan). */
  async search(query: Query): Promise<Record<string, unknown>> {
    const q = query.string("q");
    if (q === undefined) throw badRequest("q is required");
    if (q.length > 1000) throw badRequest("q must be at most 1000 characters");
    const field = query.oneOf("field", ["id", "actor", "args"] as const, "id");
    const limit = query.integer("limit", 50, 1, MAX_LIMIT);
    const brokerId = query.string("broker");
    const queueName = query.string("queue");
    const sources = brokerId ? [this.source(brokerId)] : [...this.sources.values()];
    const budget = this.options.searchLimit ?? 5000;
    const results: MessageSummary[] = [];
    let scanned = 0;
    let truncated = false;
    for (const source of sources) {
      const queues = queueName ? [queueName] : await source.queues();
      if (queueName && !(await source.hasQueue(queueName))) {
        if (brokerId)
          throw notFound(
            `unknown queue ${JSON.stringify(queueName)} on broker ${JSON.stringify(brokerId)}`,
          );
        continue;
      }
      for (const queue of queues) {
        if (results.length >= limit) break;
        if (field === "id") {
          const direct = await source.get(queue, q);
          if (direct) {
            results.push(summarize(direct, queue));
            continue;
          }
        }
        const remaining = budget - scanned;
        if (remaining <= 0) {
          truncated = true;
          break;
        }
        const needle = q.toLowerCase();
        const read = await source.scan(queue, remaining, (stored: StoredMessage) => {
          // The raw text first (cheap): only candidates are decoded.
          if (!stored.data.toString("utf8").toLowerCase().includes(needle)) return true;
          const summary = summarize(stored, queue);
          if (matches(field, needle, q, summary, stored)) results.push(summary);
          return results.length < limit;
        });
        scanned += read;
        if (read >= remaining) truncated = true;
      }
    }
    return { results: results.slice(0, limit), scanned, truncated, field, q };
  }
}

function matches(
  field: "id" | "actor" | "args",
  needle: string,
  exact: string,
  summary: MessageSummary,
  stored: StoredMessage,
): boolean {
  if (field === "id") return summary.messageId === exact || summary.id === exact;
  if (field === "actor") return summary.actor.toLowerCase().includes(needle);
  return stored.data.toString("utf8").toLowerCase().includes(needle) && argsContain(stored, needle);
}

/** Whether the args or kwargs (not the options) of the message contain the text. */
function argsContain(stored: StoredMessage, needle: string): boolean {
  try {
    const dict = JSON.parse(stored.data.toString("utf8")) as { args?: unknown; kwargs?: unknown };
    return JSON.stringify([dict.args, dict.kwargs]).toLowerCase().includes(needle);
  } catch {
    return true;
  }
}

/** An error's message for a client, passwords masked. */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^/@\s:]*):([^/@\s]*)@/gi, "$1$2:***@");
}
