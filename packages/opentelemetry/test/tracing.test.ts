import { afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import {
  actor,
  defaultMiddleware,
  group,
  Message,
  pipeline,
  Retries,
  StubBroker,
  Worker,
  type Middleware,
} from "@dq/core";
import { recordingLogger, uniqueQueueName, waitFor } from "@dq/core/testing";
import { propagation, SpanKind, SpanStatusCode, trace, context } from "@opentelemetry/api";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OpenTelemetry } from "../src/index.js";
import { memoryTracing, only, parentOf, registerContextAndPropagation } from "./helpers.js";

beforeAll(registerContextAndPropagation);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(extra: Middleware[] = []) {
  const tracing = memoryTracing();
  const telemetry = new OpenTelemetry({ tracerProvider: tracing.provider });
  const middleware = [
    ...defaultMiddleware().filter((m) => !(m instanceof Retries)),
    new Retries({ minBackoff: 5, maxBackoff: 20 }),
    ...extra,
    telemetry,
  ];
  const broker = new StubBroker({ middleware, logger: recordingLogger() });
  const worker = new Worker(broker, { workerTimeout: 20 });
  await worker.start();
  cleanups.push(async () => {
    await worker.stop({ timeout: 2000 });
    await broker.close();
  });
  const queueName = uniqueQueueName("otel");
  return { broker, worker, queueName, ...tracing };
}

describe("OpenTelemetry on the stub broker", () => {
  it("traces a send and its processing: kinds, names, parentage, attributes, trace_ctx", async () => {
    const { broker, worker, queueName, spans } = await setup();
    const add = actor((x: number, y: number) => x + y, { actorName: "add", queueName, broker });
    const sent = await add.send(1, 2);
    await broker.join(queueName);
    await worker.join();
    await waitFor(() => spans().length === 2, "the spans");

    const send = only(spans(), `send ${queueName}`);
    const process = only(spans(), "process add");
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.spanContext().traceId).toBe(send.spanContext().traceId);
    expect(parentOf(process)).toBe(send.spanContext().spanId);
    expect(parentOf(send)).toBeUndefined();
    expect(send.attributes).toEqual({
      "messaging.system": "dramatiq",
      "messaging.destination.name": queueName,
      "messaging.message.id": sent.messageId,
      "messaging.operation.type": "send",
      "messaging.operation.name": "send",
      "dramatiq.actor_name": "add",
      "dramatiq.retry_count": 0,
    });
    expect(process.attributes).toMatchObject({
      "messaging.system": "dramatiq",
      "messaging.destination.name": queueName,
      "messaging.message.id": sent.messageId,
      "messaging.operation.type": "process",
      "messaging.operation.name": "process",
      "dramatiq.actor_name": "add",
      "dramatiq.retry_count": 0,
    });
    expect(process.status.code).toBe(SpanStatusCode.UNSET);
    // The context travels in the message option, as Python's instrumentation writes it.
    const wire = JSON.parse(sent.encode().toString()) as { options: Record<string, unknown> };
    expect(wire.options.trace_ctx).toEqual({
      traceparent: `00-${send.spanContext().traceId}-${send.spanContext().spanId}-01`,
    });
  });

  it("parents the send on the caller's span and makes the CONSUMER span current in the actor", async () => {
    const { broker, worker, queueName, spans, provider } = await setup();
    const tracer = provider.getTracer("app");
    const job = actor(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        tracer.startActiveSpan("user work", (span) => {
          span.end();
        });
        await new Promise((resolve) => setTimeout(resolve, 5));
        tracer.startSpan("after await").end();
      },
      { actorName: "job", queueName, broker },
    );
    await tracer.startActiveSpan("request", async (span) => {
      await job.send();
      span.end();
    });
    await broker.join(queueName);
    await worker.join();
    await waitFor(() => spans().length === 5, "the spans");
    const request = only(spans(), "request");
    const send = only(spans(), `send ${queueName}`);
    const process = only(spans(), "process job");
    expect(parentOf(send)).toBe(request.spanContext().spanId);
    expect(parentOf(process)).toBe(send.spanContext().spanId);
    expect(parentOf(only(spans(), "user work"))).toBe(process.spanContext().spanId);
    expect(parentOf(only(spans(), "after await"))).toBe(process.spanContext().spanId);
    const traceIds = new Set(spans().map((span) => span.spanContext().traceId));
    expect(traceIds.size).toBe(1);
  });

  it("records a failure: status ERROR, the exception event, error.type", async () => {
    const { broker, worker, queueName, spans } = await setup();
    const boom = actor(
      () => {
        throw new TypeError("bad input 42");
      },
      { actorName: "boom", queueName, broker, maxRetries: 0 },
    );
    await boom.send();
    await broker.join(queueName, { failFast: false });
    await worker.join();
    await waitFor(() => spans().some((span) => span.name === "process boom"), "the spans");
    const process = only(spans(), "process boom");
    expect(process.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: "TypeError: bad input 42",
    });
    expect(process.attributes["error.type"]).toBe("TypeError");
    const event = process.events.find((e) => e.name === "exception");
    expect(event?.attributes).toMatchObject({
      "exception.type": "TypeError",
      "exception.message": "bad input 42",
    });
  });

  it("links a retried message's attempts: each retry is sent from the attempt that failed", async () => {
    const { broker, worker, queueName, spans } = await setup();
    let calls = 0;
    const flaky = actor(
      () => {
        if (++calls < 3) throw new Error(`attempt ${calls} failed`);
        return "ok";
      },
      { actorName: "flaky", queueName, broker },
    );
    await flaky.send();
    await waitFor(
      () => spans().filter((span) => span.name === "process flaky").length === 3,
      "three attempts",
    );
    await broker.join(queueName);
    await worker.join();
    const attempts = spans()
      .filter((span) => span.name === "process flaky")
      .sort(
        (a, b) =>
          Number(a.attributes["dramatiq.retry_count"]) -
          Number(b.attributes["dramatiq.retry_count"]),
      );
    expect(attempts.map((span) => span.attributes["dramatiq.retry_count"])).toEqual([0, 1, 2]);
    expect(attempts.map((span) => span.status.code)).toEqual([
      SpanStatusCode.ERROR,
      SpanStatusCode.ERROR,
      SpanStatusCode.UNSET,
    ]);
    const byId = new Map(spans().map((span) => [span.spanContext().spanId, span]));
    for (let i = 1; i < 3; i++) {
      // Attempt i was sent (to the delay queue, then moved to the queue when due) by attempt i-1.
      const move = byId.get(parentOf(attempts[i]!) ?? "")!;
      const retrySend = byId.get(parentOf(move) ?? "")!;
      expect([move.kind, retrySend.kind]).toEqual([SpanKind.PRODUCER, SpanKind.PRODUCER]);
      expect(parentOf(retrySend)).toBe(attempts[i - 1]!.spanContext().spanId);
      expect(retrySend.attributes["dramatiq.retry_count"]).toBe(i);
      expect(retrySend.attributes["dramatiq.delay"]).toBeGreaterThan(0);
      // It also links the send that delivered the attempt that failed.
      expect(retrySend.links.map((link) => link.context.spanId)).toEqual([
        parentOf(attempts[i - 1]!),
      ]);
    }
    expect(new Set(spans().map((span) => span.spanContext().traceId)).size).toBe(1);
  });

  it("keeps a pipeline's steps in one trace, each step sent from the step before", async () => {
    const { broker, worker, queueName, spans } = await setup();
    const inc = actor((x: number) => x + 1, { actorName: "inc", queueName, broker });
    const double = actor((x: number) => x * 2, { actorName: "double", queueName, broker });
    await pipeline([inc.message(1), double.message.partial(), inc.message.partial()], {
      broker,
    }).run();
    await waitFor(
      () => spans().filter((span) => span.kind === SpanKind.CONSUMER).length === 3,
      "the spans",
    );
    await broker.join(queueName);
    await worker.join();
    expect(new Set(spans().map((span) => span.spanContext().traceId)).size).toBe(1);
    const processes = spans().filter((span) => span.kind === SpanKind.CONSUMER);
    expect(processes.map((span) => span.name).sort()).toEqual([
      "process double",
      "process inc",
      "process inc",
    ]);
    // Every CONSUMER span but the first's parent chain goes: send <- previous step's process.
    const byId = new Map(spans().map((span) => [span.spanContext().spanId, span]));
    const chain = (span: (typeof processes)[number]): string[] => {
      const parent = byId.get(parentOf(span) ?? "");
      return parent ? [...chain(parent), span.name] : [span.name];
    };
    const deepest = processes.map(chain).sort((a, b) => b.length - a.length)[0];
    expect(deepest).toEqual([
      `send ${queueName}`,
      "process inc",
      `send ${queueName}`,
      "process double",
      `send ${queueName}`,
      "process inc",
    ]);
  });

  it("sends a success callback from the CONSUMER span, and a group's children from the caller's span", async () => {
    const { broker, worker, queueName, spans, provider } = await setup();
    const done = actor((_data: unknown, _result: unknown) => undefined, {
      actorName: "done",
      queueName,
      broker,
    });
    const work = actor((x: number) => x, { actorName: "work", queueName, broker });
    let first = "";
    await provider.getTracer("app").startActiveSpan("request", async (span) => {
      first = (await work.sendWithOptions({ args: [1], onSuccess: done.actorName })).messageId;
      await group([work.message(2), work.message(3)], { broker }).run();
      span.end();
    });
    await waitFor(
      () => spans().filter((s) => s.kind === SpanKind.CONSUMER).length === 4,
      "the spans",
    );
    await broker.join(queueName);
    await worker.join();
    const request = only(spans(), "request");
    expect(new Set(spans().map((s) => s.spanContext().traceId))).toEqual(
      new Set([request.spanContext().traceId]),
    );
    const sends = spans().filter((s) => s.kind === SpanKind.PRODUCER);
    expect(sends.filter((s) => parentOf(s) === request.spanContext().spanId)).toHaveLength(3);
    // The callback's send is a child of the CONSUMER span of the message that succeeded.
    const callback = only(spans(), "process done");
    const callbackSend = sends.find((s) => s.spanContext().spanId === parentOf(callback))!;
    const succeeded = spans().find((s) => s.spanContext().spanId === parentOf(callbackSend))!;
    expect(succeeded.name).toBe("process work");
    expect(succeeded.attributes["messaging.message.id"]).toBe(first);
  });

  it("continues a delayed message's trace through its move to the queue", async () => {
    const { broker, worker, queueName, spans } = await setup();
    const later = actor(() => undefined, { actorName: "later", queueName, broker });
    await later.sendWithOptions({ args: [], delay: 30 });
    await waitFor(() => spans().some((span) => span.name === "process later"), "the spans");
    await broker.join(queueName);
    await worker.join();
    const sends = spans().filter((span) => span.kind === SpanKind.PRODUCER);
    expect(sends).toHaveLength(2);
    const first = sends.find((span) => parentOf(span) === undefined)!;
    const move = sends.find((span) => span !== first)!;
    expect(first.attributes["dramatiq.delay"]).toBe(30);
    expect(parentOf(move)).toBe(first.spanContext().spanId);
    expect(parentOf(only(spans(), "process later"))).toBe(move.spanContext().spanId);
  });

  it("continues the trace of a message written by a Python producer (trace_ctx fixture)", async () => {
    const { broker, worker, queueName, spans, provider } = await setup();
    const fixture = JSON.parse(
      readFileSync(join(__dirname, "fixtures/python-trace-ctx.json"), "utf8"),
    ) as { body: string; traceId: string; parentSpanId: string; queueName: string };
    let tenant: string | undefined;
    actor(
      (x: number, y: number) => {
        tenant = propagation.getBaggage(context.active())?.getEntry("tenant")?.value;
        provider.getTracer("app").startSpan("inside").end();
        return x + y;
      },
      { actorName: "traced", queueName, broker },
    );
    const body = fixture.body.replace(
      `"queue_name":"${fixture.queueName}"`,
      `"queue_name":"${queueName}"`,
    );
    // Forwarded from outside any span: the send continues the carried trace.
    await broker.enqueue(Message.decode(Buffer.from(body)));
    await broker.join(queueName);
    await worker.join();
    await waitFor(() => spans().some((span) => span.name === "inside"), "the spans");
    const send = only(spans(), `send ${queueName}`);
    const process = only(spans(), "process traced");
    expect(send.spanContext().traceId).toBe(fixture.traceId);
    expect(parentOf(send)).toBe(fixture.parentSpanId);
    expect(process.spanContext().traceId).toBe(fixture.traceId);
    expect(parentOf(only(spans(), "inside"))).toBe(process.spanContext().spanId);
    expect(tenant).toBe("acme");
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
