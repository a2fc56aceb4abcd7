import type { IncomingHttpHeaders } from "node:http";
import { Broker, InvalidOptionError, type ResultBackend } from "@dq/core";
import { z } from "zod";
import type { ScheduleInfo } from "@dq/core/adapter";

export type { ScheduleInfo };

/** What an `authorize` hook decides on. */
export type DashboardAction =
  "read" | "retry" | "delete" | "purge" | "requeue" | "abort" | "schedule";

/** The request an `authorize` hook sees. */
export interface AuthorizeRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** A broker shown by the dashboard, with the id used in URLs. */
export interface DashboardBroker {
  /** The id in URLs (default `redis`, `rabbitmq`, then `redis-2`, ...). */
  id?: string;
  broker: Broker;
  /** RabbitMQ: the management HTTP API (default: the AMQP URL's host, port 15672, its credentials). */
  managementUrl?: string;
}

/** Structural: what `@dq/abort` provides. */
export interface AbortHook {
  abort(messageId: string, options: { mode: "cancel" | "abort" }): Promise<unknown>;
}

/** Structural: what `@dq/scheduler` provides. */
export interface SchedulerHook {
  list(): Promise<ScheduleInfo[]>;
  pause(name: string): Promise<void>;
  resume(name: string): Promise<void>;
}

/** What `createDashboard` takes. */
export interface DashboardOptions {
  brokers: readonly (Broker | DashboardBroker)[];
  /** Shows stored results on the message page. */
  resultBackend?: ResultBackend;
  /** Refuses every action (403 `read_only`); the UI hides them. */
  readOnly?: boolean;
  /** Decides each request (reads included); false answers 403 `forbidden`. */
  authorize?: (request: AuthorizeRequest, action: DashboardAction) => boolean | Promise<boolean>;
  abort?: AbortHook;
  scheduler?: SchedulerHook;
  /** The prefix it is mounted under when the framework does not strip it (e.g. `/dq`). */
  basePath?: string;
  /** How often `api/events` pushes the overview, in ms (default 2000). */
  eventInterval?: number;
  /** How many messages a search in args reads at most (default 5000). */
  searchLimit?: number;
  /** Where the built UI is (default: this package's dist/ui). */
  uiDirectory?: string;
}

const functionShape = z.custom<(...args: never[]) => unknown>(
  (value) => typeof value === "function",
);
const objectWith = (...methods: string[]) =>
  z.custom<object>(
    (value) =>
      typeof value === "object" &&
      value !== null &&
      methods.every((name) => typeof (value as Record<string, unknown>)[name] === "function"),
  );

const brokerEntry = z.union([
  z.instanceof(Broker),
  z.object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
    broker: z.instanceof(Broker),
    managementUrl: z.url().optional(),
  }),
]);

const schema = z.object({
  brokers: z.array(brokerEntry).min(1),
  resultBackend: objectWith("getResult").optional(),
  readOnly: z.boolean().optional(),
  authorize: functionShape.optional(),
  abort: objectWith("abort").optional(),
  scheduler: objectWith("list", "pause", "resume").optional(),
  basePath: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)*$/)
    .optional(),
  eventInterval: z.number().int().min(100).optional(),
  searchLimit: z.number().int().min(1).max(1_000_000).optional(),
  uiDirectory: z.string().min(1).optional(),
});

const EXPECTED: Record<string, string> = {
  brokers: "a non-empty array of Broker or { id?: /[A-Za-z0-9_-]{1,64}/, broker, managementUrl? }",
  resultBackend: "a ResultBackend",
  readOnly: "a boolean",
  authorize: "a function (request, action) => boolean | Promise<boolean>",
  abort: "an object with abort(messageId, { mode })",
  scheduler: "an object with list(), pause(name) and resume(name)",
  basePath: 'a path like "/dq" (no trailing slash)',
  eventInterval: "an integer >= 100 (ms)",
  searchLimit: "an integer from 1 to 1000000",
  uiDirectory: "a directory path",
};

/** Shows a bad option value without dumping whole objects. */
function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Broker) return value.constructor.name;
  if (typeof value === "object" && value !== null) return "an object";
  return String(value);
}

/**
 * Checks the options against the zod schema.
 * @throws InvalidOptionError naming the first bad option and its value
 */
export function parseDashboardOptions(options: DashboardOptions): DashboardOptions {
  const parsed = schema.safeParse(options);
  if (parsed.success) return options;
  const name = String(parsed.error.issues[0]!.path[0] ?? "options");
  const value = (options as unknown as Record<string, unknown>)[name];
  throw new InvalidOptionError(
    `invalid ${name} ${describe(value)}: expected ${EXPECTED[name] ?? "a valid value"}`,
  );
}
