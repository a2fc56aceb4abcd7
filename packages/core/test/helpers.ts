import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { StubBroker, Worker, type Middleware } from "../src/index.js";
import type { Clock } from "../src/adapter.js";
import { recordingLogger } from "../src/testing.js";

/** Reads a recording from `fixtures/dramatiq-wire/` at the repository root. */
export function fixture<T = Record<string, unknown>>(name: string): T {
  const file = path.resolve(__dirname, "../../../fixtures/dramatiq-wire", name);
  if (!existsSync(file)) throw new Error(`missing wire fixture ${file}`);
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

/** Every message body a Python recording holds: message hash values and RabbitMQ bodies. */
export function recordedBodies(): string[] {
  const bodies: string[] = [];
  for (const name of ["redis-enqueued.json", "redis-after-worker.json"]) {
    const keys = fixture<{ keys: Record<string, { type: string; value: unknown }> }>(name).keys;
    for (const [key, entry] of Object.entries(keys)) {
      if (entry.type === "hash" && key.endsWith(".msgs"))
        bodies.push(...Object.values(entry.value as Record<string, string>));
    }
  }
  bodies.push(
    ...Object.values(fixture<{ bodies: Record<string, string> }>("rabbitmq.json").bodies),
  );
  return bodies;
}

export { recordingLogger, rejection, waitFor } from "../src/testing.js";
export type { RecordingLogger as Recorded } from "../src/testing.js";

/** A StubBroker with a recording logger and a started worker; `stop()` in afterEach. */
export async function harness(
  options: {
    middleware?: Middleware[];
    concurrency?: number;
    queuePrefetch?: number;
    start?: boolean;
    clock?: Clock;
  } = {},
) {
  const logger = recordingLogger();
  const broker = new StubBroker({ middleware: options.middleware, logger, clock: options.clock });
  const worker = new Worker(broker, {
    workerTimeout: 20,
    concurrency: options.concurrency ?? 8,
    queuePrefetch: options.queuePrefetch,
  });
  if (options.start !== false) await worker.start();
  return {
    broker,
    worker,
    logger,
    async stop() {
      await worker.stop({ timeout: 2000 });
      await broker.close();
    },
  };
}
