import { afterEach, describe, expect, it } from "@jest/globals";
import { actor, defaultMiddleware, InvalidOptionError, StubBroker, Worker } from "@dq/core";
import { recordingLogger, uniqueQueueName, waitFor } from "@dq/core/testing";
import { metrics, propagation, trace } from "@opentelemetry/api";
import { OpenTelemetry } from "../src/index.js";
import {
  memoryMetrics,
  memoryTracing,
  only,
  parentOf,
  registerContextAndPropagation,
} from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  trace.disable();
  metrics.disable();
  propagation.disable();
});

async function setup(telemetry: OpenTelemetry) {
  const broker = new StubBroker({
    middleware: [...defaultMiddleware(), telemetry],
    logger: recordingLogger(),
  });
  const worker = new Worker(broker, { workerTimeout: 20 });
  await worker.start();
  cleanups.push(async () => {
    await worker.stop({ timeout: 2000 });
    await broker.close();
  });
  return { broker, worker, queueName: uniqueQueueName("otelx") };
}

describe("OpenTelemetry with no SDK registered", () => {
  it("writes no trace_ctx and leaves processing alone", async () => {
    const telemetry = new OpenTelemetry();
    expect(telemetry.tracing).toBe(false);
    const { broker, worker, queueName } = await setup(telemetry);
    let seen: unknown = "not run";
    const job = actor(
      () => {
        seen = trace.getActiveSpan();
      },
      { actorName: "job", queueName, broker },
    );
    const sent = await job.send();
    await broker.join(queueName);
    await worker.join();
    expect(sent.options).not.toHaveProperty("trace_ctx");
    expect(seen).toBeUndefined();
  });

  it("follows global providers registered after it was built", async () => {
    const telemetry = new OpenTelemetry();
    const { broker, worker, queueName } = await setup(telemetry);
    const job = actor(() => undefined, { actorName: "job", queueName, broker });
    await job.send();
    await broker.join(queueName);
    await worker.join();

    registerContextAndPropagation();
    const tracing = memoryTracing();
    const meters = memoryMetrics();
    trace.setGlobalTracerProvider(tracing.provider);
    metrics.setGlobalMeterProvider(meters.provider);
    expect(telemetry.tracing).toBe(true);
    await job.send();
    await broker.join(queueName);
    await worker.join();
    await waitFor(() => tracing.spans().length === 2, "the spans");
    const process = only(tracing.spans(), "process job");
    expect(parentOf(process)).toBe(only(tracing.spans(), `send ${queueName}`).spanContext().spanId);
    const [messages] = await meters.points("dramatiq.messages");
    expect(messages!.value).toBe(1);
  });

  it("names CONSUMER spans after the queue when asked", async () => {
    registerContextAndPropagation();
    const tracing = memoryTracing();
    const { broker, worker, queueName } = await setup(
      new OpenTelemetry({ tracerProvider: tracing.provider, spanNaming: "queue" }),
    );
    const job = actor(() => undefined, { actorName: "job", queueName, broker });
    await job.send();
    await broker.join(queueName);
    await worker.join();
    await waitFor(() => tracing.spans().length === 2, "the spans");
    expect(
      tracing
        .spans()
        .map((span) => span.name)
        .sort(),
    ).toEqual([`process ${queueName}`, `send ${queueName}`]);
  });

  it("rejects bad options with InvalidOptionError showing the value", () => {
    const bad = (options: unknown) => () => new OpenTelemetry(options as never);
    expect(bad({ spanNaming: "job" })).toThrow(InvalidOptionError);
    expect(bad({ spanNaming: "job" })).toThrow(
      'OpenTelemetry option spanNaming must be "actor" or "queue", got "job"',
    );
    expect(bad({ tracerProvider: {} })).toThrow(
      "OpenTelemetry option tracerProvider must be a TracerProvider (with getTracer), got Object",
    );
    expect(bad({ meterProvider: 3 })).toThrow("meterProvider must be a MeterProvider");
    expect(bad({ tracer: 1 })).toThrow('OpenTelemetry has no option "tracer"');
    expect(bad("yes")).toThrow('OpenTelemetry options must be an object, got "yes"');
  });
});
