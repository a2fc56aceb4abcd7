/**
 * The RabbitMQ broker's own options as one zod schema: each option's check and the words for what
 * a valid value is, turned into an `InvalidOptionError` naming the option and showing its value.
 */
import { InvalidOptionError } from "@dq/core";
import { maskUrl } from "@dq/core/adapter";
import { z } from "zod";
import type { LinkTimings } from "./amqp-link.js";

/** The default server. */
export const DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672";

const show = (value: unknown) =>
  typeof value === "string" ? JSON.stringify(value) : String(value);

/** A number of ms that is finite and > 0. */
const positiveMs = z
  .number()
  .positive()
  .finite()
  .meta({ description: "a finite number of ms > 0" });

/** The checked options, by name, each with what a valid value is (in the error message). */
const rabbitmqOptionsSchema = z.object({
  heartbeat: z.number().int().min(0).meta({ description: "whole seconds >= 0" }),
  maxPriority: z
    .number()
    .int()
    .min(1)
    .max(255)
    .optional()
    .meta({ description: "an integer from 1 to 255" }),
  connectionAttempts: z
    .union([z.literal(Infinity), z.number().int().min(1)])
    .meta({ description: "an integer >= 1 or Infinity" }),
  connectionWait: positiveMs,
  connectTimeout: positiveMs,
  minRetryDelay: positiveMs,
  maxRetryDelay: positiveMs,
  queueType: z.enum(["classic", "quorum"]).meta({ description: '"classic" or "quorum"' }),
  deliveryLimit: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ description: "an integer >= 1 (quorum queues only)" }),
  consumerTimeout: z
    .number()
    .int()
    .min(1000)
    .meta({ description: "whole ms >= 1000 (the server's consumer_timeout)" }),
  passive: z.boolean().meta({ description: "a boolean" }),
});

/** What `rabbitmqOptions` returns: every checked option, defaults filled in. */
export type CheckedRabbitmqOptions = z.infer<typeof rabbitmqOptionsSchema>;

/** The options `rabbitmqOptions` reads (the rest of the broker's options pass through unchecked). */
export type RabbitmqOptionsInput = Partial<Record<keyof CheckedRabbitmqOptions, unknown>>;

/**
 * The broker's checked options with their defaults (heartbeat 60 s, connection attempts unbounded,
 * 30 s connection wait, 10 s connect timeout, backoff 100 ms to 10 s). A lone `maxRetryDelay`
 * below the default minimum lowers the minimum with it.
 * @throws InvalidOptionError naming the first bad option and showing its value
 */
export function rabbitmqOptions(options: RabbitmqOptionsInput): CheckedRabbitmqOptions {
  // Checked in this order, so the first bad option is the one reported (the order of the old checks).
  const order: (keyof CheckedRabbitmqOptions)[] = [
    "heartbeat",
    "maxPriority",
    "connectionAttempts",
    "maxRetryDelay",
    "minRetryDelay",
    "connectionWait",
    "connectTimeout",
    "queueType",
    "deliveryLimit",
    "consumerTimeout",
    "passive",
  ];
  const maxRetryDelay = options.maxRetryDelay ?? 10_000;
  const input = {
    heartbeat: options.heartbeat ?? 60,
    maxPriority: options.maxPriority,
    connectionAttempts: options.connectionAttempts ?? Infinity,
    connectionWait: options.connectionWait ?? 30_000,
    connectTimeout: options.connectTimeout ?? 10_000,
    maxRetryDelay,
    minRetryDelay:
      options.minRetryDelay ??
      (typeof maxRetryDelay === "number" ? Math.min(100, maxRetryDelay) : 100),
    queueType: options.queueType ?? "classic",
    deliveryLimit: options.deliveryLimit,
    consumerTimeout: options.consumerTimeout ?? 1_800_000,
    passive: options.passive ?? false,
  };
  const parsed = rabbitmqOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const bad = new Set(parsed.error.issues.map((issue) => issue.path[0]));
    const name = order.find((key) => bad.has(key)) ?? order[0]!;
    const expected = rabbitmqOptionsSchema.shape[name].meta()?.description ?? "a valid value";
    throw new InvalidOptionError(`invalid ${name} ${show(input[name])}: expected ${expected}`);
  }
  const checked = parsed.data;
  if (checked.minRetryDelay > checked.maxRetryDelay) {
    throw new InvalidOptionError(
      `invalid minRetryDelay ${checked.minRetryDelay}: greater than maxRetryDelay ${checked.maxRetryDelay}`,
    );
  }
  if (checked.deliveryLimit !== undefined && checked.queueType !== "quorum") {
    throw new InvalidOptionError(
      `invalid deliveryLimit ${checked.deliveryLimit}: classic queues have no delivery limit; set queueType "quorum"`,
    );
  }
  return checked;
}

/** The connection timings of `rabbitmqOptions`' result, for `AmqpLink`. */
export function linkTimings(checked: CheckedRabbitmqOptions): LinkTimings {
  const { connectionAttempts, connectionWait, connectTimeout, minRetryDelay, maxRetryDelay } =
    checked;
  return { connectionAttempts, connectionWait, connectTimeout, minRetryDelay, maxRetryDelay };
}

/**
 * The server URLs: a URL, a list of them or a `;`-separated string, each `amqp://` or `amqps://`.
 * @throws InvalidOptionError on an empty list or a URL that does not parse or has another scheme
 */
export function parseUrls(url: string | readonly string[] | undefined): string[] {
  const value: unknown = url;
  if (value !== undefined && typeof value !== "string" && !Array.isArray(value))
    throw new InvalidOptionError(`invalid RabbitMQ url ${show(url)}: expected a string or a list`);
  const given: readonly string[] = typeof url === "string" ? [url] : (url ?? [DEFAULT_URL]);
  const list = given
    .flatMap((item) => item.split(";"))
    .map((item) => item.trim())
    .filter(Boolean);
  if (list.length === 0)
    throw new InvalidOptionError(`invalid RabbitMQ url ${JSON.stringify(url)}: no URL given`);
  for (const item of list) {
    let protocol: string;
    try {
      protocol = new URL(item).protocol;
    } catch (error) {
      throw new InvalidOptionError(`invalid RabbitMQ url ${JSON.stringify(maskUrl(item))}`, {
        cause: error,
      });
    }
    if (protocol !== "amqp:" && protocol !== "amqps:")
      throw new InvalidOptionError(
        `invalid RabbitMQ url ${JSON.stringify(maskUrl(item))}: expected amqp:// or amqps://`,
      );
  }
  return list;
}

/** `url` with `heartbeat` (seconds) in its query, unless it sets one. */
export function withHeartbeat(url: string, heartbeat: number): string {
  const parsed = new URL(url);
  if (parsed.searchParams.has("heartbeat")) return url;
  parsed.searchParams.set("heartbeat", String(heartbeat));
  return parsed.toString();
}
