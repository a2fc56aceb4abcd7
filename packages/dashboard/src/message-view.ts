import {
  getEncoder,
  Message,
  ResultFailure,
  ResultMissing,
  type MessageData,
  type ResultBackend,
} from "@dq/core";
import type { FoundState, StoredMessage } from "./sources/source.js";

/** A message of a list (see API-DASH.md). */
export interface MessageSummary {
  /** The id the broker stores it under (URLs use it). */
  id: string;
  /** Dramatiq's `message_id` (the same as `id` on RabbitMQ). */
  messageId: string;
  actor: string;
  queue: string;
  state: FoundState;
  enqueuedAt: number;
  eta?: number;
  retries: number;
  failedAt?: number;
  argsPreview: string;
  /** Set when the stored bytes are not a Dramatiq message. */
  undecodable?: boolean;
}

/** The decoded wire dict, or undefined when the bytes are not a message. */
export function decodeStored(data: Buffer): MessageData | undefined {
  try {
    const dict = getEncoder().decode(data) as MessageData;
    Message.fromDict(dict); // validates the shape, throws DecodeError otherwise
    return dict;
  } catch {
    return undefined;
  }
}

/** Text of at most `max` characters (ellipsis when cut). */
export function preview(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const numberOption = (options: Record<string, unknown>, key: string): number | undefined => {
  const value = options[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
};

/** The list entry of a stored message. */
export function summarize(stored: StoredMessage, queue: string): MessageSummary {
  const dict = decodeStored(stored.data);
  if (!dict) {
    return {
      id: stored.id,
      messageId: stored.id,
      actor: "",
      queue,
      state: stored.state,
      enqueuedAt: 0,
      retries: 0,
      failedAt: stored.failedAt,
      argsPreview: preview(stored.data.toString("utf8")),
      undecodable: true,
    };
  }
  const options = dict.options ?? {};
  const kwargs = dict.kwargs && Object.keys(dict.kwargs).length ? dict.kwargs : undefined;
  const argsText = JSON.stringify(kwargs ? [dict.args, kwargs] : dict.args) ?? "";
  return {
    id: stored.id,
    messageId: dict.message_id ?? stored.id,
    actor: dict.actor_name,
    queue,
    state: stored.state,
    enqueuedAt: dict.message_timestamp ?? 0,
    eta: numberOption(options, "eta"),
    retries: numberOption(options, "retries") ?? 0,
    failedAt: stored.failedAt,
    argsPreview: preview(argsText),
  };
}

/** Pipeline membership read from `pipe_target` (the next steps, nested). */
function pipelineOf(
  options: Record<string, unknown>,
): { step: number; of: number; next?: string[] } | undefined {
  const next: string[] = [];
  let target = options.pipe_target as Record<string, unknown> | null | undefined;
  while (target && typeof target === "object" && next.length < 100) {
    next.push(typeof target.actor_name === "string" ? target.actor_name : "?");
    target = (target.options as Record<string, unknown> | undefined)?.pipe_target as
      Record<string, unknown> | undefined;
  }
  if (next.length === 0) return undefined;
  // The step of this message is not recorded on the wire: only the steps after it are known.
  return { step: 1, of: next.length + 1, next };
}

/** Group membership from the group options (`group_completion_*`, `group_id`). */
function groupOf(options: Record<string, unknown>): { id?: string; size?: number } | undefined {
  const id = options.group_completion_uuid ?? options.group_id;
  const size = options.group_completion_count ?? options.group_size;
  if (id === undefined && size === undefined) return undefined;
  return {
    id: typeof id === "string" ? id : undefined,
    size: typeof size === "number" ? size : undefined,
  };
}

/** The message page's body (see API-DASH.md `GET api/messages/...`). */
export async function describeMessage(
  stored: StoredMessage,
  resultBackend: ResultBackend | undefined,
): Promise<Record<string, unknown>> {
  const raw = stored.data.toString("utf8");
  const dict = decodeStored(stored.data);
  if (!dict) return { state: stored.state, raw, undecodable: true, retries: 0 };
  const options = dict.options ?? {};
  const body: Record<string, unknown> = {
    id: stored.id,
    state: stored.state,
    message: dict,
    raw,
    retries: numberOption(options, "retries") ?? 0,
    eta: numberOption(options, "eta"),
    failedAt: stored.failedAt,
    traceback: typeof options.traceback === "string" ? options.traceback : undefined,
    pipeline: pipelineOf(options),
    group: groupOf(options),
  };
  if (resultBackend) body.result = await readResult(resultBackend, dict);
  return body;
}

/** The stored result of a message, without waiting. */
async function readResult(
  backend: ResultBackend,
  dict: MessageData,
): Promise<{ state: "stored" | "missing" | "failure"; value?: unknown; error?: string }> {
  try {
    const value = await backend.getResult(Message.fromDict(dict));
    return { state: "stored", value };
  } catch (error) {
    if (error instanceof ResultMissing) return { state: "missing" };
    if (error instanceof ResultFailure) return { state: "failure", error: error.message };
    return { state: "missing", error: error instanceof Error ? error.message : String(error) };
  }
}
