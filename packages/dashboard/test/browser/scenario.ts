// One broker (real Redis or real RabbitMQ) with a real in-process dq Worker, the actors the
// browser tests use, and the dashboard served by the real server code.
import path from "node:path";
import { actor, type Broker, Worker } from "@dq/core";
import { uniqueQueueName } from "@dq/core/testing";
import { RabbitmqBroker } from "@dq/broker-rabbitmq";
import { RedisBroker } from "@dq/broker-redis";
import { connect } from "amqplib";
import { Redis } from "ioredis";
import { createDashboard, ProcessedCounter, type DashboardOptions } from "../../src/index.js";
import { serve, type Served } from "./harness.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
export const UI_DIRECTORY = path.join(__dirname, "..", "..", "dist", "ui");

export type Kind = "redis" | "rabbitmq";

export interface Scenario {
  kind: Kind;
  /** The broker's id in the dashboard's URLs. */
  brokerId: string;
  broker: Broker;
  /** Redis only: the broker's namespace. */
  namespace?: string;
  /** Consumed by the worker: `flaky` and `ok` run here. */
  work: string;
  /** Not consumed: what is sent here stays ready (or delayed). */
  parked: string;
  state: { fail: boolean; flakyRuns: number; flakyDone: number; okDone: number };
  flaky: ReturnType<typeof makeActors>["flaky"];
  ok: ReturnType<typeof makeActors>["ok"];
  stubborn: ReturnType<typeof makeActors>["stubborn"];
  hold: ReturnType<typeof makeActors>["hold"];
  worker: Worker;
  /** Serves a dashboard over this broker (closed with the scenario). */
  dashboard(options?: Partial<DashboardOptions>): Promise<Served>;
  close(): Promise<void>;
}

function makeActors(broker: Broker, work: string, parked: string, state: Scenario["state"]) {
  const flaky = actor(
    function flaky(label: string) {
      state.flakyRuns += 1;
      if (state.fail) throw new Error(`flaky failed on purpose: ${label}`);
      state.flakyDone += 1;
    },
    { broker, queueName: work, maxRetries: 0 },
  );
  const ok = actor(
    function ok(n: number) {
      state.okDone += n >= 0 ? 1 : 0;
    },
    { broker, queueName: work },
  );
  // Fails twice (a retry 10 ms later, then dead): its dead letter carries the first traceback.
  const stubborn = actor(
    function stubborn(label: string) {
      throw new Error(`stubborn failed: ${label}`);
    },
    { broker, queueName: work, maxRetries: 1, minBackoff: 10, maxBackoff: 20 },
  );
  const hold = actor(function hold(..._args: unknown[]) {}, { broker, queueName: parked });
  return { flaky, ok, stubborn, hold };
}

export async function startScenario(kind: Kind): Promise<Scenario> {
  const namespace = kind === "redis" ? uniqueQueueName("dqdashui") : undefined;
  const broker: Broker =
    kind === "redis"
      ? new RedisBroker({ url: REDIS_URL, namespace })
      : new RabbitmqBroker({ url: AMQP_URL });
  // Processed per minute on Redis comes from this middleware (RabbitMQ's from the management API).
  if (kind === "redis") broker.addMiddleware(new ProcessedCounter());
  const work = uniqueQueueName("dqdash_work");
  const parked = uniqueQueueName("dqdash_parked");
  const state = { fail: true, flakyRuns: 0, flakyDone: 0, okDone: 0 };
  const actors = makeActors(broker, work, parked, state);
  const worker = new Worker(broker, { queues: [work], concurrency: 2, workerTimeout: 200 });
  await worker.start();
  const served: Served[] = [];
  const handlers: { close(): Promise<void> }[] = [];
  return {
    kind,
    brokerId: kind,
    broker,
    namespace,
    work,
    parked,
    state,
    ...actors,
    worker,
    async dashboard(options = {}) {
      const handler = createDashboard({
        brokers: [broker],
        eventInterval: 500,
        uiDirectory: UI_DIRECTORY,
        ...options,
      });
      handlers.push(handler);
      const server = await serve(handler, options.basePath ?? "");
      served.push(server);
      return server;
    },
    async close() {
      for (const server of served) await server.close();
      for (const handler of handlers) await handler.close();
      await worker.stop();
      await broker.close();
      if (kind === "redis") await deleteNamespace(namespace!);
      else await deleteRabbitQueues([work, parked]);
    },
  };
}

/** Deletes every key of a Redis namespace (SCAN, bounded by its key count). */
export async function deleteNamespace(namespace: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${namespace}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/** Deletes `q`, `q.DQ` and `q.XQ` of each queue. */
export async function deleteRabbitQueues(queues: string[]): Promise<void> {
  const connection = await connect(AMQP_URL);
  try {
    for (const name of queues)
      for (const queue of [name, `${name}.DQ`, `${name}.XQ`]) {
        const channel = await connection.createChannel();
        channel.on("error", () => undefined);
        await channel.deleteQueue(queue).catch(() => undefined);
        await channel.close().catch(() => undefined);
      }
  } finally {
    await connection.close();
  }
}
