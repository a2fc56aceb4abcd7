import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { StubBroker, Worker, type Clock, type Middleware } from "../src/index.js";

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
      if (entry.type === "hash" && key.endsWith(".msgs")) bodies.push(...Object.values(entry.value as Record<string, string>));
    }
  }
  bodies.push(...Object.values(fixture<{ bodies: Record<string, string> }>("rabbitmq.json").bodies));
  return bodies;
}

export interface Recorded {
  lines: string[];
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function recordingLogger(): Recorded {
  const lines: string[] = [];
  const push = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { lines, debug: push("debug"), info: push("info"), warn: push("warn"), error: push("error") };
}

export async function waitFor(condition: () => boolean, what: string, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A StubBroker with a recording logger and a started worker; `stop()` in afterEach. */
export async function harness(options: { middleware?: Middleware[]; concurrency?: number; queuePrefetch?: number; start?: boolean; clock?: Clock } = {}) {
  const logger = recordingLogger();
  const broker = new StubBroker({ middleware: options.middleware, logger, clock: options.clock });
  const worker = new Worker(broker, { workerTimeout: 20, concurrency: options.concurrency ?? 8, queuePrefetch: options.queuePrefetch });
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

/** Resolves to what `promise` rejected with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    return error;
  }
  throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
}
