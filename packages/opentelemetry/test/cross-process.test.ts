import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, expect, it } from "@jest/globals";
import { actor, defaultMiddleware, Worker, type Broker, type Logger } from "@dq/core";
import { RedisBroker } from "@dq/broker-redis";
import { RabbitmqBroker } from "@dq/broker-rabbitmq";
import {
  addressFromUrl,
  describeWithServer,
  recordingLogger,
  uniqueQueueName,
  waitFor,
} from "@dq/core/testing";
import { context, propagation, SpanKind } from "@opentelemetry/api";
import { connect } from "amqplib";
import { OpenTelemetry } from "../src/index.js";
import {
  AMQP_URL,
  memoryTracing,
  only,
  parentOf,
  REDIS_URL,
  registerContextAndPropagation,
} from "./helpers.js";

const run = promisify(execFile);
const root = join(__dirname, "..");
beforeAll(() => {
  registerContextAndPropagation();
  for (const dist of ["core", "broker-redis", "broker-rabbitmq", "opentelemetry"])
    if (!existsSync(join(root, `../${dist}/dist/index.js`)))
      throw new Error(`build @dq/${dist} first: pnpm build`);
});

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface ChildSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}

/** Starts a worker here (the consumer) with its own exporter, on `broker`. */
async function consumer(broker: Broker, queueName: string) {
  const tracing = memoryTracing();
  broker.addMiddleware(new OpenTelemetry({ tracerProvider: tracing.provider }));
  const tenants: (string | undefined)[] = [];
  actor(
    () => {
      tenants.push(propagation.getBaggage(context.active())?.getEntry("tenant")?.value);
      tracing.provider.getTracer("app").startSpan("inside").end();
    },
    { actorName: "traced", queueName, broker },
  );
  const worker = new Worker(broker, { workerTimeout: 100 });
  await worker.start();
  cleanups.push(async () => {
    await worker.stop({ timeout: 5000 });
  });
  return { ...tracing, tenants };
}

/** Runs the producer process and checks this process's trace continues the child's. */
async function producedElsewhereConsumedHere(
  broker: Broker,
  queueName: string,
  env: Record<string, string>,
) {
  const here = await consumer(broker, queueName);
  const { stdout } = await run(process.execPath, [join(__dirname, "processes/producer.mjs")], {
    env: { ...process.env, REDIS_URL, AMQP_URL, DQ_TEST_QUEUE: queueName, ...env },
    timeout: 60_000,
  });
  const child = JSON.parse(stdout.trim()) as ChildSpan[];
  const request = child.find((span) => span.name === "request")!;
  const send = child.find((span) => span.name === `send ${queueName}`)!;
  expect(send.kind).toBe(SpanKind.PRODUCER);
  expect(send.parentSpanId).toBe(request.spanId);

  await waitFor(
    () => here.spans().some((span) => span.name === "inside"),
    "the consumer's spans",
    30_000,
  );
  const process_ = only(here.spans(), "process traced");
  expect(process_.kind).toBe(SpanKind.CONSUMER);
  expect(process_.spanContext().traceId).toBe(request.traceId);
  expect(parentOf(process_)).toBe(send.spanId);
  expect(parentOf(only(here.spans(), "inside"))).toBe(process_.spanContext().spanId);
  expect(here.tenants).toEqual(["acme"]);
}

const redisAddress = addressFromUrl(REDIS_URL, 6379);
describeWithServer("across processes on Redis", redisAddress, () => {
  const namespaces: string[] = [];
  afterAll(async () => {
    const { Redis } = await import("ioredis");
    const redis = new Redis(REDIS_URL);
    for (const namespace of namespaces) {
      const keys = await redis.keys(`${namespace}:*`);
      if (keys.length) await redis.del(...keys);
    }
    await redis.quit();
  });

  function redisBroker(logger: Logger = quiet) {
    const namespace = uniqueQueueName("dqotel");
    namespaces.push(namespace);
    const broker = new RedisBroker({
      url: REDIS_URL,
      namespace,
      middleware: defaultMiddleware(),
      logger,
    });
    cleanups.push(() => broker.close());
    return { broker, namespace };
  }

  it("continues a child process's trace in this process's worker", async () => {
    const { broker, namespace } = redisBroker();
    await producedElsewhereConsumedHere(broker, uniqueQueueName("otelr"), {
      DQ_TEST_BROKER: "redis",
      DQ_TEST_NAMESPACE: namespace,
    });
  });

  it("continues the trace of a message a Python producer left in Redis (fixture)", async () => {
    const { broker, namespace } = redisBroker();
    const fixture = JSON.parse(
      readFileSync(join(__dirname, "fixtures/python-trace-ctx.json"), "utf8"),
    ) as { body: string; traceId: string; parentSpanId: string; queueName: string };
    const { options } = JSON.parse(fixture.body) as { options: { redis_message_id: string } };
    const here = await consumer(broker, fixture.queueName);
    // Exactly what Python's RedisBroker writes: the body in `<ns>:<queue>.msgs`, the id on the queue.
    await broker.client.hset(`${namespace}:fx.msgs`, options.redis_message_id, fixture.body);
    await broker.client.rpush(`${namespace}:fx`, options.redis_message_id);
    await waitFor(() => here.spans().some((span) => span.name === "inside"), "the spans", 30_000);
    const process_ = only(here.spans(), "process traced");
    expect(process_.spanContext().traceId).toBe(fixture.traceId);
    expect(parentOf(process_)).toBe(fixture.parentSpanId);
    expect(here.tenants).toEqual(["acme"]);
  });
  it("dead-letters a received message whose trace_ctx is not an object, naming the option", async () => {
    const logger = recordingLogger();
    const { broker, namespace } = redisBroker(logger);
    const fixture = JSON.parse(
      readFileSync(join(__dirname, "fixtures/python-trace-ctx.json"), "utf8"),
    ) as { body: string };
    const message = JSON.parse(fixture.body) as { options: Record<string, unknown> };
    message.options.trace_ctx = "00-not-an-object";
    const id = message.options.redis_message_id as string;
    const here = await consumer(broker, "fx");
    await broker.client.hset(`${namespace}:fx.msgs`, id, JSON.stringify(message));
    await broker.client.rpush(`${namespace}:fx`, id);
    await waitFor(
      async () => (await broker.client.zcard(`${namespace}:fx.XQ`)) === 1,
      "the dead letter",
      30_000,
    );
    expect(logger.lines.join("\n")).toMatch(/trace_ctx/);
    expect(here.spans().filter((span) => span.name === "inside")).toHaveLength(0);
  });
});

describeWithServer("across processes on RabbitMQ", addressFromUrl(AMQP_URL, 5672), () => {
  const queues: string[] = [];
  afterAll(async () => {
    const connection = await connect(AMQP_URL);
    const channel = await connection.createChannel();
    for (const name of queues)
      for (const queue of [name, `${name}.DQ`, `${name}.XQ`])
        await channel.deleteQueue(queue).catch(() => undefined);
    await connection.close();
  });

  it("continues a child process's trace in this process's worker", async () => {
    const queueName = uniqueQueueName("otelq");
    queues.push(queueName);
    const broker = new RabbitmqBroker({
      url: AMQP_URL,
      middleware: defaultMiddleware(),
      logger: quiet,
    });
    cleanups.push(() => broker.close());
    await producedElsewhereConsumedHere(broker, queueName, { DQ_TEST_BROKER: "rabbitmq" });
  });
});
