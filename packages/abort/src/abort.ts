import { getBroker, type Broker, type Group, type Message, type Pipeline } from "@dq/core";
import type { AbortBackend } from "./abort-backend.js";
import {
  AbortClient,
  type AbortOptions,
  type AbortResult,
  type AbortTarget,
} from "./abort-client.js";
import { AbortNotConfigured } from "./abort-error.js";
import { Abortable } from "./abortable.js";

/** What `abort()` takes besides the request: where to send it. */
export interface AbortWhere {
  /** The backend to write to (default: that of the `Abortable` middleware of `broker`). */
  backend?: AbortBackend;
  /** The broker whose `Abortable` middleware to use (default: the global broker). */
  broker?: Broker;
}

function clientFor(where: AbortWhere): AbortClient {
  if (where.backend) return new AbortClient(where.backend);
  const broker = where.broker ?? getBroker();
  const middleware = broker.middleware.find(
    (candidate): candidate is Abortable => candidate instanceof Abortable,
  );
  if (!middleware)
    throw new AbortNotConfigured(
      `abort(): the broker has no Abortable middleware; add one (broker.addMiddleware(new Abortable({ backend })) or pass { backend }`,
    );
  return middleware.client;
}

/**
 * Cancels or aborts a message by id (or a `Message`), as dramatiq-abort's `abort()`: mode `cancel`
 * skips it if it has not started; mode `abort` (the default) also interrupts it while it runs.
 * @returns what was requested (with `waitFor`, whether a worker took it)
 * @throws AbortNotConfigured when no backend is given and the broker has no `Abortable`
 * @throws InvalidOptionError for a bad option
 * @throws ConnectionError when the backend cannot be reached
 * @example await abort(message.messageId, { mode: "cancel" })
 */
export function abort(
  target: string | Message,
  options?: AbortOptions & AbortWhere,
): Promise<AbortResult>;
/** Cancels or aborts every message of a group or pipeline. */
export function abort(
  target: Group | Pipeline,
  options?: AbortOptions & AbortWhere,
): Promise<AbortResult[]>;
export async function abort(
  target: AbortTarget,
  options: AbortOptions & AbortWhere = {},
): Promise<AbortResult | AbortResult[]> {
  const { backend, broker, ...request } = options;
  return clientFor({ backend, broker }).abort(target, request);
}

/**
 * Cancels or aborts every message of a group or pipeline (the same as `abort(group)`).
 * @returns one result per message
 */
export function abortGroup(
  target: Group | Pipeline,
  options: AbortOptions & AbortWhere = {},
): Promise<AbortResult[]> {
  return abort(target, options);
}
