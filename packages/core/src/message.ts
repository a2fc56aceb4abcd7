import { clockNow } from "./clock.js";
import { z } from "zod";
import { getEncoder, JSONEncoder, messageJson, preview } from "./encoder.js";
import { DecodeError } from "./errors.js";
import { uuid4 } from "./uuid.js";
import { toApiOptions, toWireOptions, type MessageOptions } from "./options.js";
import type { ResultBackend } from "./results/result-backend.js";
import { Pipeline } from "./composition.js";
import { resolveResultBackend } from "./results/resolve.js";

/** A message exactly as it travels: Dramatiq's seven snake_case keys, in this order. */
export interface MessageData {
  queue_name: string;
  actor_name: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  options: Record<string, unknown>;
  message_id: string;
  message_timestamp: number;
}

/** The fields of a message in the camelCase API. */
export interface MessageFields {
  queueName: string;
  actorName: string;
  /** Positional arguments. */
  args?: readonly unknown[];
  /** Keyword arguments (for Python actors). */
  kwargs?: Record<string, unknown>;
  /** Message options (camelCase, as `sendWithOptions` takes them). */
  options?: MessageOptions;
  messageId?: string;
  messageTimestamp?: number;
}

const plainObject = z.record(z.string(), z.unknown());

/** Dramatiq's envelope: exactly these keys; Python's `Message(**fields)` rejects any other. */
const messageEnvelope = z.strictObject({
  queue_name: z.string().min(1),
  actor_name: z.string().min(1),
  args: z.array(z.unknown()),
  kwargs: plainObject,
  options: plainObject,
  message_id: z.string().min(1).optional(),
  message_timestamp: z.number().int().optional(),
});

const ENVELOPE_KEYS = new Set([
  "queue_name",
  "actor_name",
  "args",
  "kwargs",
  "options",
  "message_id",
  "message_timestamp",
]);

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * A hand-written check that accepts only what `messageEnvelope` accepts (JSON-decoded plain data
 * with the seven keys well typed). When it says no, `fromDict` asks zod, which either accepts
 * (an unusual but valid shape) or names the problems.
 */
function isWellFormedEnvelope(data: unknown): data is Omit<
  MessageData,
  "message_id" | "message_timestamp"
> & {
  message_id?: string;
  message_timestamp?: number;
} {
  if (!isPlainObject(data)) return false;
  let required = 0;
  for (const key in data) {
    if (!Object.prototype.hasOwnProperty.call(data, key) || !ENVELOPE_KEYS.has(key)) return false;
    if (key !== "message_id" && key !== "message_timestamp") required++;
  }
  if (required !== 5) return false;
  const { queue_name, actor_name, args, kwargs, options, message_id, message_timestamp } = data;
  return (
    typeof queue_name === "string" &&
    queue_name.length > 0 &&
    typeof actor_name === "string" &&
    actor_name.length > 0 &&
    Array.isArray(args) &&
    isPlainObject(kwargs) &&
    isPlainObject(options) &&
    (message_id === undefined || (typeof message_id === "string" && message_id.length > 0)) &&
    (message_timestamp === undefined || Number.isSafeInteger(message_timestamp))
  );
}

/** Options to read a message's result. */
export interface GetResultOptions {
  /** The result backend; by default that of the global broker's `Results` middleware. */
  backend?: ResultBackend;
  /** Wait for the result instead of throwing `ResultMissing`. */
  block?: boolean;
  /** How long to wait when blocking, in ms (default 10 000). */
  timeout?: number;
}

/**
 * A message: which actor to run, with which arguments and options. Immutable but for `options`,
 * which middleware update in place (as Dramatiq does). `R` is the type of the actor's result.
 * `Missing` is, for a pipeline step built with `actor.message.partial(...)`, the trailing argument
 * the previous step's result supplies (`[]` for a complete message); it exists in types only.
 */
export class Message<R = unknown, Missing extends unknown[] = []> {
  readonly queueName: string;
  readonly actorName: string;
  readonly args: readonly unknown[];
  readonly kwargs: Record<string, unknown>;
  readonly options: MessageOptions;
  readonly messageId: string;
  readonly messageTimestamp: number;
  /** Carries the result type only; never set. */
  declare readonly __result?: R;
  /**
   * Carries the missing trailing argument only; never set. A function type, so that a step whose
   * missing argument accepts the previous result (wider) fits where that result is offered.
   */
  declare readonly __missing?: (...previousResult: Missing) => void;

  constructor(fields: MessageFields) {
    this.queueName = fields.queueName;
    this.actorName = fields.actorName;
    this.args = fields.args ?? [];
    this.kwargs = fields.kwargs ?? {};
    this.options = fields.options ?? {};
    this.messageId = fields.messageId ?? uuid4();
    this.messageTimestamp = fields.messageTimestamp ?? clockNow();
  }

  /** The message timestamp as a Date (UTC). */
  get messageDatetime(): Date {
    return new Date(this.messageTimestamp);
  }

  /** @returns the wire shape: seven snake_case keys in Dramatiq's order, option keys mapped */
  asDict(): MessageData {
    return {
      queue_name: this.queueName,
      actor_name: this.actorName,
      args: [...this.args],
      kwargs: this.kwargs,
      options: toWireOptions(this.options),
      message_id: this.messageId,
      message_timestamp: this.messageTimestamp,
    };
  }

  /**
   * Builds a message from its wire shape (as `asDict` returns or another language sends).
   * @throws DecodeError when `data` is not a message, naming the problem
   */
  static fromDict<R = unknown>(data: unknown): Message<R> {
    if (isWellFormedEnvelope(data)) {
      // The common case, checked by hand; anything unusual goes through zod (same result, same errors).
      return new Message<R>({
        queueName: data.queue_name,
        actorName: data.actor_name,
        args: data.args.slice(),
        kwargs: { ...data.kwargs },
        options: toApiOptions(data.options),
        messageId: data.message_id,
        messageTimestamp: data.message_timestamp,
      });
    }
    const parsed = messageEnvelope.safeParse(data);
    if (!parsed.success) {
      const problems = parsed.error.issues
        .map((issue) => `${issue.path.length ? issue.path.join(".") : "message"}: ${issue.message}`)
        .join("; ");
      throw new DecodeError(
        `not a Dramatiq message (${problems}): ${preview(safeStringify(data))}`,
        data,
        { cause: parsed.error },
      );
    }
    const fields = parsed.data;
    return new Message<R>({
      queueName: fields.queue_name,
      actorName: fields.actor_name,
      args: fields.args,
      kwargs: fields.kwargs,
      options: toApiOptions(fields.options),
      messageId: fields.message_id,
      messageTimestamp: fields.message_timestamp,
    });
  }

  /** @returns the bytes of this message, from the global encoder */
  encode(): Buffer {
    const encoder = getEncoder();
    // The default encoder's text is pure ASCII: latin1 writes the same bytes without a UTF-8 pass.
    if (encoder.constructor === JSONEncoder)
      return Buffer.from(messageJson(this.asDict()), "latin1");
    return encoder.encode(this.asDict());
  }

  /**
   * Decodes bytes written by `encode` (or by Python Dramatiq).
   * @throws DecodeError on bytes that do not decode, or decode to something that is not a message
   */
  static decode<R = unknown>(data: Buffer | string): Message<R> {
    return Message.fromDict<R>(getEncoder().decode(data));
  }

  /**
   * @returns a copy with `changes` applied; `options` are merged shallowly (`{...old, ...new}`)
   */
  copy(changes: Partial<MessageFields> = {}): Message<R, Missing> {
    return new Message<R, Missing>({
      queueName: changes.queueName ?? this.queueName,
      actorName: changes.actorName ?? this.actorName,
      args: changes.args ?? this.args,
      kwargs: changes.kwargs ?? this.kwargs,
      options: changes.options ? { ...this.options, ...changes.options } : { ...this.options },
      messageId: changes.messageId ?? this.messageId,
      messageTimestamp: changes.messageTimestamp ?? this.messageTimestamp,
    });
  }

  /**
   * Python's `message | next`: a pipeline of this message followed by `next` (a complete message,
   * one built with `message.partial` whose missing argument takes this message's result, or a pipeline).
   */
  pipe<N>(
    next: Message<N, [previousResult: R]> | Pipeline<N, [previousResult: R]>,
  ): Pipeline<N, Missing> {
    return new Pipeline<N, Missing>([this, next]);
  }

  /**
   * Reads this message's result from a result backend.
   * @throws ResultMissing when not blocking and there is no result yet
   * @throws ResultTimeout when blocking ran past the timeout
   * @throws ResultFailure when the actor failed
   */
  getResult(options: GetResultOptions = {}): Promise<R> {
    const backend = options.backend ?? resolveResultBackend();
    return backend.getResult(this, options);
  }

  /** `actor_name(arg1, arg2, k=v)`, as Dramatiq prints messages. */
  toString(): string {
    const parts = this.args.map((arg) => safeStringify(arg));
    for (const [key, value] of Object.entries(this.kwargs))
      parts.push(`${key}=${safeStringify(value)}`);
    return `${this.actorName}(${parts.join(", ")})`;
  }
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
