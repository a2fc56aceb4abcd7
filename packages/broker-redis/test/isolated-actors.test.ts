// An isolated (`isolate: "thread"`) CPU-bound actor on a real Redis: its time limit terminates its
// thread in time, and the worker processes every other message meanwhile.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, expect, it } from "@jest/globals";
import {
  actor,
  defaultMiddleware,
  Middleware,
  TimeLimitExceeded,
  Worker,
  type Broker,
  type MessageProxy,
  type ProcessOutcome,
} from "@dq/core";
import { recordingLogger } from "@dq/core/testing";
import { RedisBroker } from "../src/index.js";
import {
  deleteNamespaces,
  describeWithRedis,
  redisUrl,
  uniqueNamespace,
  waitFor,
} from "./helpers.js";

const namespaces = new Set<string>();
const fixture = pathToFileURL(path.join(__dirname, "fixtures", "isolated-actors.mjs")).href;

class Timings extends Middleware {
  readonly started = new Map<string, number>();
  readonly ended = new Map<string, { at: number; result?: unknown; exception?: unknown }>();
  override beforeProcessMessage(_broker: Broker, message: MessageProxy): void {
    this.started.set(message.messageId, Date.now());
  }
  override afterProcessMessage(_b: Broker, message: MessageProxy, outcome: ProcessOutcome): void {
    this.ended.set(message.messageId, { at: Date.now(), ...outcome });
  }
}

describeWithRedis("isolated actors on Redis", () => {
  afterAll(() => deleteNamespaces(namespaces));

  it("a busy loop with timeLimit 200 fails with TimeLimitExceeded within 300 ms; 50 other messages run", async () => {
    const namespace = uniqueNamespace();
    namespaces.add(namespace);
    const timings = new Timings();
    const broker = new RedisBroker({
      url: redisUrl,
      namespace,
      logger: recordingLogger(),
      middleware: [...defaultMiddleware(), timings],
    });
    const thread = { broker, isolate: "thread", module: fixture, queueName: "cpu" } as const;
    const spin = actor(function redisIsolatedSpin() {}, {
      ...thread,
      timeLimit: 200,
      maxRetries: 0,
    });
    const square = actor((x: number) => x, { ...thread, actorName: "redisIsolatedSquare" });
    const double = actor((x: number) => x * 2, { broker, actorName: "double", queueName: "cpu" });
    const worker = new Worker(broker, { workerTimeout: 100, concurrency: 4 });
    try {
      await worker.start();
      // A warm thread: the limit then measures the loop, not a thread start on a loaded machine.
      const warm = await square.send(7);
      await waitFor(() => timings.ended.has(warm.messageId), "the warm-up message", 30_000);
      expect(timings.ended.get(warm.messageId)!.result).toBe(49);

      const looping = await spin.send();
      const others = await Promise.all(Array.from({ length: 50 }, (_, i) => double.send(i)));
      await waitFor(() => timings.ended.has(looping.messageId), "the loop's message", 30_000);
      const end = timings.ended.get(looping.messageId)!;
      expect(end.exception).toBeInstanceOf(TimeLimitExceeded);
      const took = end.at - timings.started.get(looping.messageId)!;
      expect(took).toBeGreaterThanOrEqual(195);
      expect(took).toBeLessThan(300);
      await waitFor(
        () => others.every((message) => timings.ended.has(message.messageId)),
        "the 50 other messages",
        30_000,
      );
      for (const [i, message] of others.entries())
        expect(timings.ended.get(message.messageId)!.result).toBe(i * 2);
      // Some of them ran while the loop spun: the worker's event loop was free.
      const loopStart = timings.started.get(looping.messageId)!;
      expect(
        others.some((message) => {
          const at = timings.ended.get(message.messageId)!.at;
          return at > loopStart && at < end.at;
        }),
      ).toBe(true);
      await waitFor(
        async () => (await broker.getDeadLetters("cpu")).length === 1,
        "the loop's message dead-lettered",
      );
      // The thread was replaced: an isolated message runs after it.
      const after = await square.send(9);
      await waitFor(() => timings.ended.has(after.messageId), "a message after the loop", 30_000);
      expect(timings.ended.get(after.messageId)!.result).toBe(81);
    } finally {
      await worker.stop({ timeout: 5000 });
      await broker.close();
    }
  }, 60_000);
});
