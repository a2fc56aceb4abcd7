// A PRODUCER process with its own OpenTelemetry SDK and exporter, from the BUILT packages (build
// first). env: DQ_TEST_BROKER (redis | rabbitmq), REDIS_URL, AMQP_URL, DQ_TEST_NAMESPACE (redis),
// DQ_TEST_QUEUE. Inside a span "request" it sends one message to actor "traced", then closes the
// broker and prints its finished spans as one JSON line on stdout.
import { actor, defaultMiddleware } from "@dq/core";
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { OpenTelemetry } from "../../dist/index.js";

const env = process.env;
const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(
  new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  }),
);
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
);

const quiet = { debug() {}, info() {}, warn() {}, error: (...a) => console.error(...a) };
const middleware = [...defaultMiddleware(), new OpenTelemetry()];
const broker =
  env.DQ_TEST_BROKER === "rabbitmq"
    ? new (await import("@dq/broker-rabbitmq")).RabbitmqBroker({
        url: env.AMQP_URL,
        middleware,
        logger: quiet,
      })
    : new (await import("@dq/broker-redis")).RedisBroker({
        url: env.REDIS_URL,
        namespace: env.DQ_TEST_NAMESPACE,
        middleware,
        logger: quiet,
      });
const traced = actor(() => undefined, {
  actorName: "traced",
  queueName: env.DQ_TEST_QUEUE,
  broker,
});
const baggage = propagation.createBaggage({ tenant: { value: "acme" } });
await context.with(propagation.setBaggage(context.active(), baggage), () =>
  trace.getTracer("producer").startActiveSpan("request", async (span) => {
    await traced.send();
    span.end();
  }),
);
await broker.close();
const spans = exporter.getFinishedSpans().map((span) => ({
  name: span.name,
  kind: span.kind,
  traceId: span.spanContext().traceId,
  spanId: span.spanContext().spanId,
  parentSpanId: span.parentSpanContext?.spanId,
}));
process.stdout.write(`${JSON.stringify(spans)}\n`);
