import { canonicalQueueName } from "@dq/core/adapter";
import type { Attributes } from "@opentelemetry/api";

/** Span and metric attribute names (OpenTelemetry messaging conventions, plus Dramatiq's own). */
export const ATTR = {
  system: "messaging.system",
  destination: "messaging.destination.name",
  messageId: "messaging.message.id",
  operationType: "messaging.operation.type",
  operationName: "messaging.operation.name",
  actorName: "dramatiq.actor_name",
  retryCount: "dramatiq.retry_count",
  delay: "dramatiq.delay",
  errorType: "error.type",
} as const;

/** `messaging.system`: the protocol both dq and Python Dramatiq speak, whichever the broker. */
export const SYSTEM = "dramatiq";

/** The option that carries the propagated context, as Python's instrumentations write it. */
export const TRACE_CONTEXT_OPTION = "trace_ctx";

/** The fields of a message the attributes are read from. */
export interface MessageFields {
  readonly queueName: string;
  readonly actorName: string;
  readonly messageId: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** How often a message failed before this attempt (`options.retries`). */
export function retryCount(message: MessageFields): number {
  const retries = message.options.retries;
  return typeof retries === "number" ? retries : 0;
}

/** The attributes of a `send` or `process` span. */
export function spanAttributes(message: MessageFields, operation: "send" | "process"): Attributes {
  return {
    [ATTR.system]: SYSTEM,
    [ATTR.destination]: canonicalQueueName(message.queueName),
    [ATTR.messageId]: message.messageId,
    [ATTR.operationType]: operation,
    [ATTR.operationName]: operation,
    [ATTR.actorName]: message.actorName,
    [ATTR.retryCount]: retryCount(message),
  };
}

/** The attributes of a metric point: low cardinality only. */
export function metricAttributes(message: MessageFields): Attributes {
  return {
    [ATTR.system]: SYSTEM,
    [ATTR.destination]: canonicalQueueName(message.queueName),
    [ATTR.actorName]: message.actorName,
  };
}
