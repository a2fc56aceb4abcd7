import { badRequest } from "./http.js";
import type { MessageState } from "./sources/source.js";

/** Reads and checks query parameters, answering 400 with a message on a bad one. */
export class Query {
  constructor(private readonly params: URLSearchParams) {}

  string(name: string, fallback?: string): string | undefined {
    const value = this.params.get(name);
    return value === null || value === "" ? fallback : value;
  }

  /** An integer within [min, max]. */
  integer(name: string, fallback: number, min: number, max: number): number {
    const text = this.params.get(name);
    if (text === null || text === "") return fallback;
    if (!/^-?\d+$/.test(text))
      throw badRequest(`${name} must be an integer, got ${JSON.stringify(text)}`);
    const value = Number(text);
    if (value < min || value > max) {
      throw badRequest(`${name} must be between ${min} and ${max}, got ${value}`);
    }
    return value;
  }

  /** One of the allowed values. */
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.params.get(name);
    if (value === null || value === "") return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw badRequest(
        `${name} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`,
      );
    }
    return value as T;
  }
}

export const STATES: readonly MessageState[] = ["ready", "delayed", "dead"];
export const ORDERS = ["oldest", "newest"] as const;
/** The largest page size of `api/queues/.../messages` and search. */
export const MAX_LIMIT = 200;
/** The largest page number (pages far beyond the data are simply empty). */
export const MAX_PAGE = 1_000_000;

/** A plain object body, or 400. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}
