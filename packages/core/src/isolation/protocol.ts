/**
 * What the main thread and an isolated actor's worker thread say to each other, and how errors
 * cross between them (structured clone keeps neither classes nor most properties).
 */
import type { MessageData } from "../message.js";
import * as errors from "../errors.js";

/** Main thread → worker thread. */
export type ToThread =
  | {
      type: "run";
      id: number;
      module: string;
      actorName: string;
      message: MessageData;
      /** Whether `CurrentMessage` exposes the message (the middleware is on in the main thread). */
      current: boolean;
    }
  | { type: "abort"; id: number; reason: SerializedError };

/** Worker thread → main thread. */
export type FromThread =
  | { type: "done"; id: number; ok: true; value: unknown }
  | { type: "done"; id: number; ok: false; error: SerializedError };

/** An error as it crosses threads. */
export interface SerializedError {
  name: string;
  message: string;
  stack: string | undefined;
  /** The dq error class chain (`["TimeLimitExceeded", "Interrupt", "DramatiqError"]`), if any. */
  chain: readonly string[] | undefined;
  /** `Retry`'s delay; `ResultFailure`'s fields; an interrupt's grace. */
  fields: Record<string, unknown>;
  /** A thrown value that is no Error. */
  value?: unknown;
}

const MARK = Symbol.for("dq.error");
const FIELDS = ["delay", "origExcType", "origExcMsg", "grace", "code"] as const;

/** @returns `error` as plain data that structured clone carries */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) {
    return {
      name: "Error",
      message: String(error),
      stack: undefined,
      chain: undefined,
      fields: {},
      value: cloneable(error),
    };
  }
  const source = error as Error & Record<string | symbol, unknown>;
  const fields: Record<string, unknown> = {};
  for (const key of FIELDS) {
    const value = source[key];
    if (typeof value === "number" || typeof value === "string") fields[key] = value;
  }
  const chain = source[MARK];
  return {
    name: typeof source.name === "string" ? source.name : "Error",
    message: typeof source.message === "string" ? source.message : "",
    stack: typeof source.stack === "string" ? source.stack : undefined,
    chain: Array.isArray(chain) ? (chain as string[]).slice() : undefined,
    fields,
  };
}

function cloneable(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return String(value);
  }
}

/** Builds the core error class nearest to the thrown one (its own, or its closest core parent). */
function coreError(data: SerializedError): Error | undefined {
  const { message, fields } = data;
  for (const name of data.chain ?? []) {
    const found = (errors as Record<string, unknown>)[name];
    if (typeof found !== "function") continue;
    if (name === "Retry") {
      const delay = typeof fields.delay === "number" ? fields.delay : undefined;
      return new errors.Retry({ message, delay });
    }
    if (name === "ResultFailure") {
      const text = (value: unknown) => (typeof value === "string" ? value : "");
      return new errors.ResultFailure(message, text(fields.origExcType), text(fields.origExcMsg));
    }
    return new (found as new (message: string) => Error)(message);
  }
  return undefined;
}

/**
 * Rebuilds an error from the other thread: a core error (`Retry`, `TimeLimitExceeded`, ...) as an
 * instance of its class (a subclass of one as an instance of that core class, with its name and
 * `isInstance` chain), any other as an `Error` with the same name, message and stack (and the
 * thrown value itself when it was no Error).
 */
export function deserializeError(data: SerializedError): unknown {
  if ("value" in data) return data.value;
  const error = (coreError(data) ?? new Error(data.message)) as Error & Record<string, unknown>;
  error.name = data.name;
  if (data.chain) (error as unknown as Record<symbol, unknown>)[MARK] = data.chain;
  if (data.stack !== undefined) error.stack = data.stack;
  for (const [key, value] of Object.entries(data.fields)) {
    if (!(key in error) || key === "grace" || key === "code") error[key] = value;
  }
  return error;
}
