// The dashboard's JSON API (see API-DASH.md), typed for the UI. Every URL is relative to the
// document's <base href>, so the UI works wherever the handler is mounted.
import type { MessageData } from "@dq/core";
import type { ScheduleInfo } from "@dq/core/adapter";
import type { MessageState, RatePoint, WorkerInfo } from "../../src/api-types.js";

export type { MessageState, RatePoint, ScheduleInfo, WorkerInfo };

export interface BrokerInfo {
  id: string;
  kind: "redis" | "rabbitmq" | "stub";
  url: string;
}

export interface Session {
  csrfToken: string;
  readOnly: boolean;
  features: { results: boolean; abort: boolean; scheduler: boolean };
  brokers: BrokerInfo[];
}

export interface QueueCounts {
  broker: string;
  queue: string;
  ready: number;
  delayed: number;
  inFlight: number;
  dead: number;
}

export interface BrokerRates {
  broker: string;
  processed: RatePoint[];
  failed: RatePoint[];
}

export interface Overview {
  queues: QueueCounts[];
  workers: { alive: number };
  rates: BrokerRates[];
  at: number;
}

export interface MessageSummary {
  id: string;
  actor: string;
  queue: string;
  state: MessageState;
  enqueuedAt: number;
  eta?: number;
  retries: number;
  failedAt?: number;
  argsPreview: string;
  broker?: string;
}

export interface MessagePage {
  total: number;
  page: number;
  limit: number;
  messages: MessageSummary[];
}

/** A message as it travels (Dramatiq's seven snake_case keys): core's `MessageData`. */
export type DramatiqMessage = MessageData;

export interface MessageDetail {
  state: MessageState;
  message: DramatiqMessage;
  raw: string;
  retries: number;
  eta?: number;
  traceback?: string;
  pipeline?: { step: number; of: number; next?: string[] };
  group?: { id?: string; size?: number };
  result?: { state: "stored" | "missing" | "failure"; value?: unknown; error?: string };
}

export interface SearchResults {
  results: MessageSummary[];
  scanned: number;
  truncated: boolean;
}

/** An error answered by the API (`{ error: { code, message } }`) or by the network. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken = "";

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** One path segment, escaped (queue names and ids are data, never URL syntax). */
export const seg = (value: string): string => encodeURIComponent(value);

async function answer<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? "http_" + String(response.status),
      error?.message ?? `${response.status} ${response.statusText}`,
    );
  }
  return body as T;
}

export async function getJson<T>(
  path: string,
  query?: Record<string, string | number>,
): Promise<T> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) params.set(key, String(value));
  const search = params.toString();
  const response = await fetch(search ? `${path}?${search}` : path, {
    headers: { accept: "application/json" },
    credentials: "same-origin",
  });
  return answer<T>(response);
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-dq-csrf": csrfToken },
    credentials: "same-origin",
    body: JSON.stringify(body),
  });
  return answer<T>(response);
}

export const api = {
  session: () => getJson<Session>("api/session"),
  overview: () => getJson<Overview>("api/overview"),
  messages: (
    broker: string,
    queue: string,
    query: { state: MessageState; order: "oldest" | "newest"; page: number; limit: number },
  ) => getJson<MessagePage>(`api/queues/${seg(broker)}/${seg(queue)}/messages`, query),
  message: (broker: string, queue: string, id: string) =>
    getJson<MessageDetail>(`api/messages/${seg(broker)}/${seg(queue)}/${seg(id)}`),
  workers: () => getJson<{ workers: WorkerInfo[] }>("api/workers"),
  search: (query: Record<string, string | number>) => getJson<SearchResults>("api/search", query),
  schedules: () => getJson<{ schedules: ScheduleInfo[] }>("api/schedules"),
  retry: (broker: string, queue: string, body: { ids: string[] } | { all: true }) =>
    postJson<{ retried: number }>(`api/queues/${seg(broker)}/${seg(queue)}/retry`, body),
  remove: (broker: string, queue: string, id: string, state: MessageState) =>
    postJson<{ deleted: boolean }>(`api/messages/${seg(broker)}/${seg(queue)}/${seg(id)}/delete`, {
      state,
    }),
  purge: (broker: string, queue: string, confirm: string) =>
    postJson<{ purged: number }>(`api/queues/${seg(broker)}/${seg(queue)}/purge`, { confirm }),
  requeue: (
    broker: string,
    queue: string,
    id: string,
    body: { args: unknown[]; kwargs?: Record<string, unknown> },
  ) =>
    postJson<{ id: string }>(`api/messages/${seg(broker)}/${seg(queue)}/${seg(id)}/requeue`, body),
  abort: (broker: string, queue: string, id: string, mode: "cancel" | "abort") =>
    postJson<{ ok: true }>(`api/messages/${seg(broker)}/${seg(queue)}/${seg(id)}/abort`, {
      mode,
    }),
  schedule: (name: string, action: "pause" | "resume") =>
    postJson<unknown>(`api/schedules/${seg(name)}/${action}`, {}),
};
