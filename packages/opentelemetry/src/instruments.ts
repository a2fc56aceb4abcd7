import {
  createNoopMeter,
  metrics,
  type Counter,
  type Histogram,
  type MeterProvider,
  type UpDownCounter,
} from "@opentelemetry/api";

/** Dramatiq's duration buckets (ms), as @dq/prometheus uses them. */
export const DURATION_BUCKETS = [
  5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000, 30000, 60000, 600000,
  900000,
];

/** The metric instruments, with the meaning of @dq/prometheus's metrics of the same role. */
export interface Instruments {
  /** `dramatiq.messages`: messages processed (run or skipped). */
  readonly messages: Counter;
  /** `dramatiq.message.errors`: messages whose processing failed. */
  readonly errors: Counter;
  /** `dramatiq.message.retries`: retries enqueued. */
  readonly retries: Counter;
  /** `dramatiq.message.rejects`: messages dead-lettered. */
  readonly rejects: Counter;
  /** `dramatiq.messages.inprogress`: messages being processed now. */
  readonly inProgress: UpDownCounter;
  /** `dramatiq.message.duration`: processing time, ms. */
  readonly duration: Histogram;
  /** `dramatiq.message.wait_time`: from the message's timestamp to the start of its processing, ms. */
  readonly waitTime: Histogram;
}

// Where API 1.x keeps every global it registers (providers, propagator, context manager, diag):
// while nothing at all is registered, the hooks need not ask the API anything else.
const API_GLOBALS = Symbol.for("opentelemetry.js.api.1");

/** Whether nothing was ever registered with the OpenTelemetry API in this process. */
export function nothingRegistered(): boolean {
  return (globalThis as Record<symbol, unknown>)[API_GLOBALS] === undefined;
}

/** The instrumentation scope of the tracer and meter. */
export const SCOPE = "@dq/opentelemetry";
/** Its version. */
export const SCOPE_VERSION = "0.1.0";

function create(provider: MeterProvider): Instruments | undefined {
  const meter = provider.getMeter(SCOPE, SCOPE_VERSION);
  // The API's no-op meter: metrics are off, and the hooks skip them (no attribute objects).
  if (meter === createNoopMeter()) return undefined;
  const counter = (name: string, description: string) =>
    meter.createCounter(name, { description, unit: "{message}" });
  const histogram = (name: string, description: string) =>
    meter.createHistogram(name, {
      description,
      unit: "ms",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
  return {
    messages: counter("dramatiq.messages", "The number of messages processed."),
    errors: counter("dramatiq.message.errors", "The number of errored messages."),
    retries: counter("dramatiq.message.retries", "The number of retried messages."),
    rejects: counter("dramatiq.message.rejects", "The number of dead-lettered messages."),
    inProgress: meter.createUpDownCounter("dramatiq.messages.inprogress", {
      description: "The number of messages in progress.",
      unit: "{message}",
    }),
    duration: histogram("dramatiq.message.duration", "The time spent processing messages."),
    waitTime: histogram(
      "dramatiq.message.wait_time",
      "The time from a message's timestamp (its first enqueue) to the start of its processing.",
    ),
  };
}

/**
 * The instruments of a meter provider: a given one, or the global one, looked up again when it
 * changes (an SDK registered after the middleware was built is picked up).
 */
export class InstrumentSource {
  private provider: MeterProvider | undefined;
  private instruments: Instruments | undefined;

  constructor(private readonly fixed: MeterProvider | undefined) {}

  /** @returns the instruments, or undefined when metrics are off (the no-op provider) */
  get(): Instruments | undefined {
    if (!this.fixed && nothingRegistered()) return undefined;
    const provider = this.fixed ?? metrics.getMeterProvider();
    if (provider !== this.provider) {
      this.provider = provider;
      this.instruments = create(provider);
    }
    return this.instruments;
  }
}
