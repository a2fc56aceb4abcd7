import { afterAll, expect, it } from "@jest/globals";
import {
  actor,
  CurrentMessage,
  defaultMiddleware,
  group,
  pipeline,
  Retries,
  Worker,
  type MessageOptions,
} from "@dq/core";
import {
  loadWireFixture,
  recordingLogger,
  restoreRedisRecording,
  withEta,
  type RecordedRedisKey,
} from "@dq/core/testing";
import { RedisBroker } from "../src/index.js";
import {
  deleteNamespaces,
  describeWithRedis,
  plainClient,
  redisUrl,
  uniqueNamespace,
  waitFor,
} from "./helpers.js";

interface Recording {
  keys: Record<string, RecordedRedisKey>;
  message_ids: Record<string, string>;
}
const readRecording = (name: string) => loadWireFixture<Recording>(name);
const WIRE_KEYS = [
  "queue_name",
  "actor_name",
  "args",
  "kwargs",
  "options",
  "message_id",
  "message_timestamp",
];

interface Run {
  actorName: string;
  messageId: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  options: MessageOptions;
}

const namespaces = new Set<string>();

function setup(namespace: string, middleware = [...defaultMiddleware(), new CurrentMessage()]) {
  namespaces.add(namespace);
  const logger = recordingLogger();
  const broker = new RedisBroker({ url: redisUrl, namespace, logger, middleware });
  const runs: Run[] = [];
  const record = (actorName: string) => {
    const message = CurrentMessage.getCurrentMessage()!;
    runs.push({
      actorName,
      messageId: message.messageId,
      args: [...message.args],
      kwargs: message.kwargs,
      options: { ...message.options },
    });
  };
  const add = actor(
    function add(x: number, y: number | { y: number }) {
      record("add");
      return x + (typeof y === "object" ? y.y : y);
    },
    { broker, queueName: "fx", maxRetries: 0 },
  );
  const done = actor(
    function done(..._args: unknown[]) {
      record("done");
    },
    { broker, queueName: "fx" },
  );
  return { broker, logger, runs, add, done };
}

describeWithRedis("RedisBroker compatibility with Python Dramatiq", () => {
  afterAll(() => deleteNamespaces(namespaces));

  it("processes every message of the recorded Python enqueue (redis-enqueued.json)", async () => {
    const recording = readRecording("redis-enqueued.json");
    const namespace = uniqueNamespace();
    const { broker, runs } = setup(namespace);
    const redis = plainClient();
    const worker = new Worker(broker, { workerTimeout: 100 });
    const dueAt = Date.now() + 500;
    try {
      // Bring the delayed message's eta near now; everything else stays byte for byte.
      await restoreRedisRecording(redis, recording.keys, namespace, (key, data) =>
        key.endsWith(".DQ.msgs") ? withEta(data, dueAt) : data,
      );
      await worker.start();
      const ids = recording.message_ids;
      await waitFor(
        () => runs.filter((run) => run.actorName === "add").length === 9,
        "the 9 add messages",
      );
      await waitFor(() => runs.some((run) => run.actorName === "done"), "the on_success callback");
      await broker.join("fx", { timeout: 10_000 });

      const byId = (id: string) => runs.find((run) => run.messageId === id);
      expect(byId(ids.plain!)?.args).toEqual([1, 2]);
      const withKwargs = byId(ids.kwargs!)!;
      expect(withKwargs.kwargs).toEqual({ y: 5 });
      expect(withKwargs.options.custom_option).toBe("kept");
      expect(withKwargs.options.onSuccess).toBe("done");
      const callback = runs.find((run) => run.actorName === "done")!;
      expect(callback.args[1]).toBe(6); // on_success(message_data, result)
      expect((callback.args[0] as { message_id: string }).message_id).toBe(ids.kwargs);
      const delayed = byId(ids.delayed!)!;
      expect(delayed.args).toEqual([3, 4]);
      expect(Date.now()).toBeGreaterThanOrEqual(dueAt);
      // The pipeline: add(1, 1) → add(10, 2) → add(0, 0) with pipe_ignore.
      const adds = runs.filter((run) => run.actorName === "add").map((run) => run.args);
      expect(adds).toEqual(
        expect.arrayContaining([
          [1, 1],
          [10, 2],
          [0, 0],
        ]),
      );
      // The group's children ran with their completion options intact.
      const children = runs.filter(
        (run) => run.options.groupCompletionUuid === "c8fe8a4d-7e0a-45a9-b311-15386d3d50cf",
      );
      expect(children.map((run) => run.args).sort()).toEqual([
        [0, 0],
        [1, 1],
        [2, 2],
      ]);
      for (const child of children)
        expect(child.options.groupCompletionCallbacks?.[0]?.actor_name).toBe("done");
      expect((await broker.getQueueMessageCounts("fx")).deadLettered).toBe(0);
    } finally {
      await worker.stop({ timeout: 5000 });
      await broker.close();
      redis.disconnect();
    }
  });

  it("writes the same keys, types and JSON shapes as Python's producer", async () => {
    const recording = readRecording("redis-enqueued.json");
    const namespace = uniqueNamespace();
    const { broker, add, done } = setup(namespace);
    const redis = plainClient();
    try {
      await add.send(1, 2);
      // An option no middleware of this broker declares (read by a Python middleware, say) goes on a
      // built message: sendWithOptions refuses names it does not know.
      await broker.enqueue(
        add
          .messageWithOptions({ args: [1], kwargs: { y: 5 }, onSuccess: "done" } as never)
          .copy({ options: { custom_option: "kept" } }),
      );
      await add.sendWithOptions({ args: [3, 4], delay: 60_000 });
      await pipeline(
        [
          add.message(1, 1),
          add.messageWithOptions({ args: [10] } as never),
          add.messageWithOptions({ args: [0, 0], pipeIgnore: true }),
        ],
        { broker },
      ).run();
      await group([add.message(0, 0), add.message(1, 1), add.message(2, 2)], { broker }).run();
      void done;

      const keys = (await redis.keys(`${namespace}:*`))
        .map((key) => key.slice(namespace.length + 1))
        .sort();
      // Python's producer also registers in __heartbeats__; dq's producers do not (issue 17: every
      // one-shot producer left a stale entry that maintenance had to examine forever).
      const recordedKeys = Object.keys(recording.keys)
        .map((key) => key.slice("dqfixtures:".length))
        .filter((key) => key !== "__heartbeats__")
        .sort();
      expect(keys).toEqual(recordedKeys);
      for (const suffix of keys) {
        expect(await redis.type(`${namespace}:${suffix}`)).toBe(
          recording.keys[`dqfixtures:${suffix}`]!.type,
        );
      }
      expect(await redis.llen(`${namespace}:fx`)).toBe(6);
      expect(await redis.zscore(`${namespace}:__heartbeats__`, broker.brokerId)).toBeNull();

      const shapes = async (hashKey: string) => {
        const hash = await redis.hgetall(hashKey);
        return Object.entries(hash).map(([id, data]) => {
          const message = JSON.parse(data) as Record<string, unknown> & {
            options: Record<string, unknown>;
          };
          expect(Object.keys(message)).toEqual(WIRE_KEYS);
          expect(message.options.redis_message_id).toBe(id);
          expect(data).not.toMatch(/[^\x20-\x7e]/); // compact ASCII
          return Object.keys(message.options).join(",");
        });
      };
      const recordedShapes = (suffix: string) =>
        Object.values(recording.keys[`dqfixtures:${suffix}`]!.value as Record<string, string>).map(
          (data) => Object.keys((JSON.parse(data) as { options: object }).options).join(","),
        );
      // Group children carry group_completion_* only with a completion callback, which needs
      // GroupCallbacks from @dq/rate-limits; here they are plain messages.
      const withoutGroupKeys = (shape: string) =>
        shape.replace("group_completion_uuid,group_completion_callbacks,", "");
      expect((await shapes(`${namespace}:fx.msgs`)).sort()).toEqual(
        recordedShapes("fx.msgs").map(withoutGroupKeys).sort(),
      );
      expect(await shapes(`${namespace}:fx.DQ.msgs`)).toEqual(recordedShapes("fx.DQ.msgs"));
      const pipelineHead = Object.values(await redis.hgetall(`${namespace}:fx.msgs`))
        .map(
          (data) =>
            JSON.parse(data) as {
              options: { pipe_target?: { options: { pipe_target?: { options: object } } } };
            },
        )
        .find((message) => message.options.pipe_target)!;
      expect(pipelineHead.options.pipe_target!.options.pipe_target!.options).toEqual({
        pipe_ignore: true,
      });
    } finally {
      await broker.close();
      redis.disconnect();
    }
  });

  it("dead-letters a message whose retries are exhausted in the recorded .XQ shape (redis-after-worker.json)", async () => {
    const recording = readRecording("redis-after-worker.json");
    const namespace = uniqueNamespace();
    const middleware = [
      ...defaultMiddleware().filter((m) => !(m instanceof Retries)),
      new Retries({ minBackoff: 10, maxBackoff: 50 }),
      new CurrentMessage(),
    ];
    const { broker } = setup(namespace, middleware);
    const redis = plainClient();
    const worker = new Worker(broker, { workerTimeout: 100 });
    try {
      const explode = actor(
        function explode(kind: string) {
          throw new Error(`bad ${kind}`);
        },
        { broker, queueName: "fx", maxRetries: 1 },
      );
      await worker.start();
      const sent = await explode.send("input");
      await waitFor(async () => (await redis.zcard(`${namespace}:fx.XQ`)) === 1, "the dead letter");
      await broker.join("fx", { timeout: 5000 });
      expect(await redis.type(`${namespace}:fx.XQ`)).toBe(recording.keys["dqfixtures:fx.XQ"]!.type);
      expect(await redis.type(`${namespace}:fx.XQ.msgs`)).toBe(
        recording.keys["dqfixtures:fx.XQ.msgs"]!.type,
      );
      const [id, score] = await redis.zrange(`${namespace}:fx.XQ`, 0, -1, "WITHSCORES");
      expect(Number(score)).toBeGreaterThan(Date.now() - 60_000);
      const stored = JSON.parse((await redis.hget(`${namespace}:fx.XQ.msgs`, id!))!) as Record<
        string,
        unknown
      > & { options: Record<string, unknown> };
      const [recordedId, recordedData] = Object.entries(
        recording.keys["dqfixtures:fx.XQ.msgs"]!.value as Record<string, string>,
      )[0]!;
      const recorded = JSON.parse(recordedData) as Record<string, unknown> & {
        options: Record<string, unknown>;
      };
      expect(Object.keys(stored)).toEqual(Object.keys(recorded));
      expect(Object.keys(stored.options)).toEqual(Object.keys(recorded.options));
      expect(recorded.options.redis_message_id).toBe(recordedId);
      expect(stored.options.redis_message_id).toBe(id);
      expect(stored.queue_name).toBe("fx");
      expect(stored.message_id).toBe(sent.messageId);
      expect(stored.options.retries).toBe(1);
      expect(stored.options.traceback).toMatch(/bad input/);
      expect(typeof stored.options.requeue_timestamp).toBe("number");
    } finally {
      await worker.stop({ timeout: 5000 });
      await broker.close();
      redis.disconnect();
    }
  });
});
