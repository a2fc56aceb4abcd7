import { afterEach, describe, expect, it } from "@jest/globals";
import {
  actor,
  group,
  InvalidOptionError,
  Middleware,
  Retries,
  StubBroker,
  Worker,
  defaultMiddleware,
  type Broker,
  type Message,
} from "@dq/core";
import { GroupCallbacks, StubRateLimiterBackend, type RateLimiterBackend } from "../src/index.js";
import { RedisRateLimiterBackend } from "../src/redis.js";
import { describeWithServer, REDIS_URL, uniqueKey } from "./helpers.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function setup(backend: RateLimiterBackend) {
  const middleware = [
    ...defaultMiddleware().filter((m) => !(m instanceof Retries)),
    new Retries({ maxRetries: 0 }),
    new GroupCallbacks(backend),
  ];
  const broker = new StubBroker({ middleware });
  const queueName = uniqueKey("dqgroup").replace(/-/g, "_");
  const processed: string[] = [];
  const fired: unknown[][] = [];
  const work = actor(
    async function group_child(id: number, fail: boolean) {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      if (fail) throw new Error(`child ${id} failed`);
      processed.push(String(id));
    },
    { broker, queueName },
  );
  const done = actor(
    function group_done(label: string) {
      fired.push([label]);
    },
    { broker, queueName },
  );
  cleanups.push(() => backend.close());
  return { broker, queueName, work, done, processed, fired };
}

async function startWorkers(broker: Broker, count: number) {
  for (let i = 0; i < count; i++) {
    const worker = new Worker(broker, { concurrency: 4, workerTimeout: 50 });
    cleanups.unshift(() => worker.stop({ timeout: 5000 }));
    await worker.start();
  }
}

async function runGroup(backend: RateLimiterBackend, failing?: number) {
  const { broker, queueName, work, done, processed, fired } = setup(backend);
  const children = Array.from({ length: 50 }, (_, i) => work.message(i, i === failing));
  const g = group(children, { broker }).addCompletionCallback(done.message("all 50 done"));
  await startWorkers(broker, 2);
  await g.run();
  await broker.join(queueName, { timeout: 20_000, failFast: false });
  // The callback is enqueued by the last child's middleware; join again to run it.
  await broker.join(queueName, { timeout: 20_000, failFast: false });
  return { processed, fired };
}

describe("GroupCallbacks on the stub backend", () => {
  it("fires the completion callback exactly once after all 50 children, over two workers", async () => {
    const { processed, fired } = await runGroup(new StubRateLimiterBackend());
    expect(processed).toHaveLength(50);
    expect(fired).toEqual([["all 50 done"]]);
  });

  it("never fires when a child fails for good", async () => {
    const { processed, fired } = await runGroup(new StubRateLimiterBackend(), 17);
    expect(processed).toHaveLength(49);
    expect(fired).toEqual([]);
  });

  it("is required by a group with callbacks, and puts Dramatiq's option keys on the wire", async () => {
    const broker = new StubBroker();
    const noop = actor(function noop_child() {}, { broker, queueName: "gc_plain" });
    await expect(
      group([noop.message()], { broker }).addCompletionCallback(noop.message()).run(),
    ).rejects.toThrow(InvalidOptionError);

    const { broker: withMiddleware, work, done } = setup(new StubRateLimiterBackend());
    const sent: Record<string, unknown>[] = [];
    withMiddleware.addMiddleware(
      new (class extends Middleware {
        override afterEnqueue(_broker: Broker, message: Message) {
          sent.push(JSON.parse(message.encode().toString()));
        }
      })(),
    );
    await group([work.message(1, false)], { broker: withMiddleware })
      .addCompletionCallback(done.message("x"))
      .run();
    const options = sent[0]!.options as {
      group_completion_uuid: unknown;
      group_completion_callbacks: { actor_name: string }[];
    };
    expect(typeof options.group_completion_uuid).toBe("string");
    expect(options.group_completion_callbacks[0]!.actor_name).toBe("group_done");
  });
});

describe("GroupCallbacks option values", () => {
  it("dead-letters a message whose group options from the wire are malformed, with the reason", async () => {
    const { broker, queueName, work, processed } = setup(new StubRateLimiterBackend());
    await startWorkers(broker, 1);
    for (const [id, options] of [
      [1, { group_completion_uuid: 42, group_completion_callbacks: [] }],
      [2, { group_completion_uuid: "g-1", group_completion_callbacks: "done" }],
    ] as const) {
      const body = JSON.stringify({
        queue_name: queueName,
        actor_name: work.actorName,
        args: [id, false],
        kwargs: {},
        options,
        message_id: `bad-${id}`,
        message_timestamp: Date.now(),
      });
      broker.enqueueRaw(queueName, body);
    }
    await broker.join(queueName, { timeout: 20_000, failFast: false });
    expect(processed).toEqual([]);
    const reasons = broker.deadLetters.map((letter) => (letter.exception as Error).message).sort();
    expect(reasons).toEqual([
      `message bad-1 (group_child): invalid option groupCompletionUuid = 42: expected a group id (a non-empty string)`,
      `message bad-2 (group_child): invalid option groupCompletionCallbacks = "done": expected a list of messages in wire shape`,
    ]);
  });
});

describeWithServer("Redis", "GroupCallbacks on the Redis backend", () => {
  it("fires the completion callback exactly once after all 50 children, over two workers", async () => {
    const { processed, fired } = await runGroup(new RedisRateLimiterBackend({ url: REDIS_URL }));
    expect(processed).toHaveLength(50);
    expect(fired).toEqual([["all 50 done"]]);
  });
});
