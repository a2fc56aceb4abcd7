import { InvalidOptionError } from "@dq/core";
import type { MeterProvider, TextMapPropagator, TracerProvider } from "@opentelemetry/api";

/** How CONSUMER spans are named: `process <actor>` (default) or `process <queue>`. */
export type SpanNaming = "actor" | "queue";

/** What `new OpenTelemetry(options)` takes; every field is optional. */
export interface OpenTelemetryOptions {
  /** Tracer provider (default: the global one, `trace.getTracerProvider()`, followed when registered later). */
  tracerProvider?: TracerProvider;
  /** Meter provider (default: the global one, `metrics.getMeterProvider()`, followed when registered later). */
  meterProvider?: MeterProvider;
  /**
   * Propagator that writes and reads the message option `trace_ctx` (default: the global one,
   * which an SDK's `register()` sets to W3C trace context + baggage).
   */
  propagator?: TextMapPropagator;
  /**
   * The CONSUMER span's name: `"actor"` gives `process <actor name>` (default), `"queue"` gives
   * `process <queue name>`, the messaging conventions' `{operation} {destination}`.
   */
  spanNaming?: SpanNaming;
}

const hasMethod = (value: unknown, name: string): boolean =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as Record<string, unknown>)[name] === "function";

const show = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object" && value !== null) return value.constructor?.name ?? "object";
  return String(value);
};

/**
 * Checks the options given to `OpenTelemetry`.
 * @throws InvalidOptionError naming the option and showing its value
 */
export function checkOptions(options: unknown): OpenTelemetryOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw new InvalidOptionError(`OpenTelemetry options must be an object, got ${show(options)}`, {
      value: options,
      expected: "an object",
    });
  const given = options as Record<string, unknown>;
  const checks: [string, (value: unknown) => boolean, string][] = [
    ["tracerProvider", (v) => hasMethod(v, "getTracer"), "a TracerProvider (with getTracer)"],
    ["meterProvider", (v) => hasMethod(v, "getMeter"), "a MeterProvider (with getMeter)"],
    [
      "propagator",
      (v) => hasMethod(v, "inject") && hasMethod(v, "extract"),
      "a TextMapPropagator (with inject and extract)",
    ],
    ["spanNaming", (v) => v === "actor" || v === "queue", '"actor" or "queue"'],
  ];
  for (const [option, check, expected] of checks) {
    const value = given[option];
    if (value !== undefined && !check(value))
      throw new InvalidOptionError(
        `OpenTelemetry option ${option} must be ${expected}, got ${show(value)}`,
        { option, value, expected },
      );
  }
  const known = new Set(checks.map(([option]) => option));
  for (const option of Object.keys(given))
    if (!known.has(option))
      throw new InvalidOptionError(
        `OpenTelemetry has no option ${JSON.stringify(option)} (known: ${[...known].join(", ")})`,
        { option, value: given[option] },
      );
  return given;
}
