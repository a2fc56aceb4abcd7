import type { Broker, Message, MessageProxy, ProcessOutcome } from "@dq/core";
import { Middleware } from "@dq/core";
import { canonicalQueueName, optionValidator, type OptionValidator } from "@dq/core/adapter";
import {
  context,
  isSpanContextValid,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from "@opentelemetry/api";
import { ATTR, metricAttributes, spanAttributes, TRACE_CONTEXT_OPTION } from "./attributes.js";
import {
  InstrumentSource,
  nothingRegistered,
  SCOPE,
  SCOPE_VERSION,
  type Instruments,
} from "./instruments.js";
import { checkOptions, type OpenTelemetryOptions, type SpanNaming } from "./options.js";

/** What reads and writes `trace_ctx`: a `TextMapPropagator`, or the global `propagation` API. */
interface Propagator {
  inject(context: Context, carrier: Carrier, setter: TextMapSetter<Carrier>): void;
  extract(context: Context, carrier: Carrier, getter: TextMapGetter<Carrier>): Context;
}
type Carrier = Record<string, unknown>;

const setter: TextMapSetter<Carrier> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};
// Values another producer wrote that are not strings are ignored.
const getter: TextMapGetter<Carrier> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const value = carrier[key];
    return typeof value === "string" ? value : undefined;
  },
};

// The API's own no-op provider: what the global proxy delegates to while no SDK is registered.
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

const isPlainObject = (value: unknown): value is Carrier =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const TRACE_CONTEXT_VALIDATOR = optionValidator(
  "a plain object of propagation fields (traceparent, tracestate, baggage)",
  isPlainObject,
);

/**
 * OpenTelemetry tracing and metrics for dq. On enqueue: a PRODUCER span `send <queue>`, whose
 * context is written into the message option `trace_ctx` (W3C `traceparent`, `tracestate`,
 * baggage: what Python's instrumentations for Dramatiq-style queues write and read). Around
 * processing: a CONSUMER span `process <actor>`, parented on that context and made current across
 * the actor's async execution, so spans the actor starts nest inside it; the retries, pipeline
 * steps and callbacks it enqueues are its children. With no SDK registered it does nothing.
 */
export class OpenTelemetry extends Middleware {
  private readonly tracer: Tracer;
  private readonly fixedTracerProvider: boolean;
  private readonly propagator: Propagator;
  private readonly instruments: InstrumentSource;
  private readonly spanNaming: SpanNaming;
  private readonly sending = new WeakMap<Message, Span>();
  private readonly processing = new WeakMap<MessageProxy, Span>();
  /** Delayed messages this worker holds until due: their move to the queue continues their trace. */
  private readonly held = new Set<string>();
  /** Enqueues that are such moves (not new sends, not retries). */
  private readonly moves = new WeakSet<Message>();

  /** @throws InvalidOptionError on an option of the wrong type or an unknown option */
  constructor(options: OpenTelemetryOptions = {}) {
    super();
    const checked = checkOptions(options);
    this.fixedTracerProvider = checked.tracerProvider !== undefined;
    this.tracer = (checked.tracerProvider ?? trace.getTracerProvider()).getTracer(
      SCOPE,
      SCOPE_VERSION,
    );
    this.propagator = (checked.propagator as Propagator | undefined) ?? propagation;
    this.instruments = new InstrumentSource(checked.meterProvider);
    this.spanNaming = checked.spanNaming ?? "actor";
  }

  override get optionValidators(): Readonly<Record<string, OptionValidator>> {
    return { [TRACE_CONTEXT_OPTION]: TRACE_CONTEXT_VALIDATOR };
  }

  /** Whether spans are recorded: a provider was given, or an SDK registered a global one. */
  get tracing(): boolean {
    if (this.fixedTracerProvider) return true;
    if (nothingRegistered()) return false;
    const provider = trace.getTracerProvider();
    return !(
      provider instanceof ProxyTracerProvider && provider.getDelegate() === NOOP_TRACER_PROVIDER
    );
  }

  private extract(carrier: Carrier): Context {
    return this.propagator.extract(ROOT_CONTEXT, carrier, getter);
  }

  override beforeDelayMessage(_broker: Broker, message: MessageProxy): void {
    if (this.tracing || this.instruments.get()) this.held.add(message.messageId);
  }

  override beforeEnqueue(_broker: Broker, message: Message, delay: number | undefined): void {
    const moved = this.held.size > 0 && this.held.delete(message.messageId);
    if (moved) this.moves.add(message);
    if (!this.tracing) return;
    const carried = message.options[TRACE_CONTEXT_OPTION];
    let parent = context.active();
    let links: Link[] | undefined;
    if (isPlainObject(carried)) {
      const extracted = this.extract(carried);
      if (moved || !trace.getSpan(parent)) {
        // A delayed message come due, or a message carrying a context (from Python, say) sent
        // from outside any span: the send continues the carried trace.
        parent = extracted;
      } else {
        // A copy of a message that was sent before (a retry): link that send.
        const previous = trace.getSpanContext(extracted);
        if (previous && isSpanContextValid(previous)) links = [{ context: previous }];
      }
    }
    const attributes = spanAttributes(message, "send");
    if (delay) attributes[ATTR.delay] = delay;
    const span = this.tracer.startSpan(
      `send ${canonicalQueueName(message.queueName)}`,
      { kind: SpanKind.PRODUCER, attributes, links },
      parent,
    );
    const carrier: Carrier = {};
    this.propagator.inject(trace.setSpan(parent, span), carrier, setter);
    if (Object.keys(carrier).length > 0) message.options[TRACE_CONTEXT_OPTION] = carrier;
    this.sending.set(message, span);
  }

  override afterEnqueue(_broker: Broker, message: Message): void {
    const span = this.sending.get(message);
    if (span) {
      this.sending.delete(message);
      span.end();
    }
    if (this.moves.has(message)) return;
    if (message.options.retries !== undefined)
      this.instruments.get()?.retries.add(1, metricAttributes(message));
  }

  override aroundProcessMessage(
    broker: Broker,
    message: MessageProxy,
    next: () => Promise<void>,
  ): Promise<void> {
    const tracing = this.tracing;
    const instruments = this.instruments.get();
    // Not async: with no SDK this costs the two checks above and nothing else.
    if (!tracing && !instruments) return next();
    return this.observe(broker, message, next, tracing, instruments);
  }

  private async observe(
    broker: Broker,
    message: MessageProxy,
    next: () => Promise<void>,
    tracing: boolean,
    instruments: Instruments | undefined,
  ): Promise<void> {
    const started = performance.now();
    const labels = instruments ? metricAttributes(message) : undefined;
    if (instruments) {
      instruments.inProgress.add(1, labels);
      const waited = broker.clock.now() - message.messageTimestamp;
      instruments.waitTime.record(Math.max(0, waited), labels);
    }
    let span: Span | undefined;
    try {
      if (tracing) {
        // The extracted context keeps the producer's baggage for the actor.
        const carried = message.options[TRACE_CONTEXT_OPTION];
        const parent = isPlainObject(carried) ? this.extract(carried) : ROOT_CONTEXT;
        span = this.startProcessSpan(message, parent);
        await context.with(trace.setSpan(parent, span), next);
      } else await next();
    } finally {
      span?.end();
      if (instruments) {
        instruments.duration.record(performance.now() - started, labels);
        instruments.inProgress.add(-1, labels);
      }
    }
  }

  private startProcessSpan(message: MessageProxy, parent: Context): Span {
    const target =
      this.spanNaming === "queue" ? canonicalQueueName(message.queueName) : message.actorName;
    const span = this.tracer.startSpan(
      `process ${target}`,
      { kind: SpanKind.CONSUMER, attributes: spanAttributes(message, "process") },
      parent,
    );
    this.processing.set(message, span);
    return span;
  }

  override afterProcessMessage(
    _broker: Broker,
    message: MessageProxy,
    outcome: ProcessOutcome = {},
  ): void {
    const failed = outcome.exception !== undefined;
    const instruments = this.instruments.get();
    if (instruments) {
      const labels = metricAttributes(message);
      instruments.messages.add(1, labels);
      if (failed) instruments.errors.add(1, labels);
    }
    const span = this.processing.get(message);
    if (!span) return;
    this.processing.delete(message);
    if (failed) recordFailure(span, outcome.exception);
  }

  override afterSkipMessage(broker: Broker, message: MessageProxy): void {
    this.processing.get(message)?.setAttribute("dramatiq.skipped", true);
    this.afterProcessMessage(broker, message);
  }

  override afterNack(_broker: Broker, message: MessageProxy): void {
    this.instruments.get()?.rejects.add(1, metricAttributes(message));
  }

  override afterWorkerShutdown(): void {
    // Delayed messages held in memory went back to the broker.
    this.held.clear();
  }
}

function recordFailure(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
    span.setAttribute(ATTR.errorType, error.name);
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${error.name}: ${error.message}` });
  } else {
    span.recordException(String(error));
    span.setAttribute(ATTR.errorType, "_OTHER");
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
}
