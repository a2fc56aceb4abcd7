import { afterAll, expect, it } from "@jest/globals";
import { Message } from "@dq/core";
import { RedisBroker } from "../src/index.js";
import type { RedisConsumer } from "../src/redis-consumer.js";
import {
  deleteNamespaces,
  describeWithRedis,
  plainClient,
  redisUrl,
  uniqueNamespace,
} from "./helpers.js";

const namespaces = new Set<string>();

/** Every key of a namespace with its content, the namespace and broker id replaced by placeholders, heartbeat scores dropped. */
async function dump(broker: RedisBroker): Promise<Record<string, unknown>> {
  const redis = plainClient();
  try {
    const keys = (await redis.keys(`${broker.namespace}:*`)).sort();
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const name = key.replace(broker.namespace, "NS").replace(broker.brokerId, "BROKER");
      const type = await redis.type(key);
      if (type === "list") out[name] = await redis.lrange(key, 0, -1);
      else if (type === "hash") out[name] = await redis.hgetall(key);
      else if (type === "set") out[name] = (await redis.smembers(key)).sort();
      else if (type === "zset")
        out[name] = (await redis.zrange(key, 0, -1)).map((member) =>
          member.replace(broker.brokerId, "BROKER"),
        );
      else out[name] = type;
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

/** Asserts that a consumer holds nothing and that its broker left nothing stored or unacked on q. */
async function expectAllAcked(broker: RedisBroker, consumer: RedisConsumer): Promise<void> {
  expect(consumer.outstanding).toBe(0);
  const state = await dump(broker);
  expect(state["NS:q.msgs"]).toBeUndefined();
  expect(state["NS:__acks__.BROKER.q"]).toBeUndefined();
}

/** The commands of the broker's `dispatchBuffers` calls (the consumer's fetches), as they are made. */
function recordDispatches(broker: RedisBroker): string[] {
  const commands: string[] = [];
  const dispatch = broker.dispatchBuffers.bind(broker);
  broker.dispatchBuffers = (queueName, command, args) => {
    commands.push(command);
    return dispatch(queueName, command, args);
  };
  return commands;
}

/** A consumer of q (prefetch 4) whose dispatch calls are recorded, and `count` raw messages `{"n":i}` on q. */
async function recordedConsumer(count: number) {
  const broker = newBroker();
  const consumer = broker.consume("q", { prefetch: 4, timeout: 100 }) as RedisConsumer;
  const commands = recordDispatches(broker);
  for (let index = 0; index < count; index++) await broker.enqueueRaw("q", `{"n":${index}}`);
  return { broker, consumer, commands };
}

function newBroker(): RedisBroker {
  const namespace = uniqueNamespace();
  namespaces.add(namespace);
  const broker = new RedisBroker({ url: redisUrl, namespace, maintenanceChance: 0 });
  broker.declareQueue("q");
  return broker;
}

describeWithRedis("RedisBroker batched dispatch commands", () => {
  afterAll(() => deleteNamespaces(namespaces));

  it("ack_many has exactly the effects of one Dramatiq ack per id", async () => {
    const ids = ["a", "b", "c", "d", "e"];
    const scenario = async (batched: boolean) => {
      const broker = newBroker();
      try {
        for (const id of ids) await broker.dispatch("q", "enqueue", [id, `{"id":"${id}"}`]);
        await broker.dispatch("q", "fetch", [4]);
        // Acks of fetched ids, of an id fetched twice, of a queued (unfetched) id and of an unknown id.
        const acked = ["b", "a", "c", "b", "e", "zzz"];
        if (batched)
          expect(await broker.dispatch("q", "ack_many", acked, { maintenance: false })).toBe(3);
        else
          for (const id of acked) await broker.dispatch("q", "ack", [id], { maintenance: false });
        return await dump(broker);
      } finally {
        await broker.close();
      }
    };
    const single = await scenario(false);
    expect(single["NS:q.msgs"]).toEqual({ d: '{"id":"d"}', e: '{"id":"e"}' });
    expect(single["NS:__acks__.BROKER.q"]).toEqual(["d"]);
    expect(await scenario(true)).toEqual(single);
  });

  it("ack_fetch has exactly the effects of Dramatiq acks then a fetch, and replies what the fetch would", async () => {
    const ids = ["a", "b", "c", "d", "e", "f"];
    const scenario = async (combined: boolean) => {
      const broker = newBroker();
      try {
        for (const id of ids) await broker.dispatch("q", "enqueue", [id, `{"id":"${id}"}`]);
        await broker.dispatch("q", "fetch", [3]);
        const acked = ["b", "a", "zzz", "e"];
        const reply = combined
          ? await broker.dispatchBuffers("q", "ack_fetch", [2, 0, ...acked])
          : await (async () => {
              for (const id of acked)
                await broker.dispatch("q", "ack", [id], { maintenance: false });
              return broker.dispatchBuffers("q", "fetch", [2]);
            })();
        return { reply: (reply as Buffer[]).map(String), state: await dump(broker) };
      } finally {
        await broker.close();
      }
    };
    const separate = await scenario(false);
    expect(separate.reply).toEqual(["d", '{"id":"d"}', "e", '{"id":"e"}']);
    expect(separate.state["NS:__acks__.BROKER.q"]).toEqual(["c", "d", "e"]);
    expect(await scenario(true)).toEqual(separate);
  });

  it("a consumer refills its prefetch window in the call that acks (one dispatch per batch)", async () => {
    const { broker, consumer, commands } = await recordedConsumer(12);
    try {
      const seen: string[] = [];
      for (let round = 0; round < 3; round++) {
        const proxies = [];
        for (let index = 0; index < 4; index++) {
          const result = await consumer.next();
          if (result.done || !result.value) throw new Error("expected a delivery");
          proxies.push(result.value);
          seen.push(String(result.value.raw));
        }
        await Promise.all(proxies.map((proxy) => consumer.ack(proxy)));
      }
      expect(seen).toEqual(Array.from({ length: 12 }, (_, index) => `{"n":${index}}`));
      // One fetch, then each batch of acks fetched the next window; the last one found nothing.
      expect(commands).toEqual(["fetch", "ack_fetch", "ack_fetch", "ack_fetch"]);
      await expectAllAcked(broker, consumer);
    } finally {
      await consumer.close();
      await broker.close();
    }
  });

  it("nextReady hands out what a fetch buffered, in order, without another call", async () => {
    const { broker, consumer, commands } = await recordedConsumer(3);
    try {
      expect(consumer.nextReady()).toBeUndefined();
      const first = await consumer.next();
      if (first.done || !first.value) throw new Error("expected a delivery");
      const proxies = [first.value, consumer.nextReady(), consumer.nextReady()];
      expect(proxies.map((proxy) => String(proxy?.raw))).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
      expect(consumer.nextReady()).toBeUndefined();
      expect(commands).toEqual(["fetch"]);
      await Promise.all(proxies.map((proxy) => consumer.ack(proxy!)));
      await expectAllAcked(broker, consumer);
    } finally {
      await consumer.close();
      await broker.close();
    }
    expect(consumer.nextReady()).toBeUndefined();
  });

  it("enqueue_many has exactly the effects of one Dramatiq enqueue per message", async () => {
    const scenario = async (batched: boolean) => {
      const broker = newBroker();
      try {
        await broker.dispatch("q", "enqueue", ["first", "1"]);
        const pairs = ["b", '{"b":1}', "a", '{"a":"\\u00e9"}', "c", "3"];
        if (batched) expect(await broker.dispatch("q", "enqueue_many", pairs)).toBe(3);
        else
          for (let index = 0; index < pairs.length; index += 2)
            await broker.dispatch("q", "enqueue", pairs.slice(index, index + 2));
        return await dump(broker);
      } finally {
        await broker.close();
      }
    };
    const single = await scenario(false);
    expect(single["NS:q"]).toEqual(["first", "b", "a", "c"]);
    expect(await scenario(true)).toEqual(single);
  });

  it("enqueueMany stores every message on its own queue, in order, with its redis_message_id", async () => {
    const broker = newBroker();
    broker.declareQueue("other");
    const redis = plainClient();
    try {
      const messages = Array.from(
        { length: 1203 },
        (_, index) =>
          new Message({
            queueName: index % 3 === 0 ? "other" : "q",
            actorName: "x",
            args: [index, "é☃"],
          }),
      );
      const sent = await broker.enqueueMany(messages);
      for (const queueName of ["q", "other"]) {
        const mine = sent.filter((message) => message.queueName === queueName);
        expect(await redis.lrange(`${broker.namespace}:${queueName}`, 0, -1)).toEqual(
          mine.map((message) => message.options.redisMessageId),
        );
        const stored = await redis.hgetall(`${broker.namespace}:${queueName}.msgs`);
        expect(Object.keys(stored)).toHaveLength(mine.length);
        for (const message of mine)
          expect(stored[message.options.redisMessageId!]).toBe(message.encode().toString("utf8"));
      }
    } finally {
      redis.disconnect();
      await broker.close();
    }
  });

  it("enqueueMany writes each full chunk while the next is encoded, and reports a bad message after the chunks before it", async () => {
    const broker = newBroker();
    const redis = plainClient();
    try {
      // ENQUEUE_BATCH is 500: message 700 is encoded while the first chunk is already written.
      let writtenBeforeLast = -1;
      await broker.dispatch("q", "qsize"); // connected, so writes go to the socket
      const stream = (broker as unknown as { client: { stream: { bytesWritten: number } } }).client
        .stream;
      const start = stream.bytesWritten;
      const probe = { toJSON: () => ((writtenBeforeLast = stream.bytesWritten - start), "probe") };
      const messages = Array.from(
        { length: 800 },
        (_, index) =>
          new Message({ queueName: "q", actorName: "x", args: [index === 700 ? probe : index] }),
      );
      await broker.enqueueMany(messages);
      expect(writtenBeforeLast).toBeGreaterThan(100_000);
      expect(await redis.llen(`${broker.namespace}:q`)).toBe(800);

      // A message that cannot be encoded (a BigInt) fails the call once the chunk before it is stored.
      await broker.flush("q");
      const bad = Array.from(
        { length: 600 },
        (_, index) =>
          new Message({
            queueName: "q",
            actorName: "x",
            args: [index === 550 ? undefined : index],
          }),
      );
      await expect(broker.enqueueMany(bad)).rejects.toThrow(/cannot encode args\[0\] as JSON/);
      expect(await redis.llen(`${broker.namespace}:q`)).toBe(500);
    } finally {
      redis.disconnect();
      await broker.close();
    }
  });

  it("acks every message of concurrent workers: nothing stays in .msgs or the ack set", async () => {
    const broker = newBroker();
    const consumer = broker.consume("q", { prefetch: 50, timeout: 100 }) as RedisConsumer;
    try {
      for (let index = 0; index < 40; index++) await broker.enqueueRaw("q", "x");
      const proxies = [];
      for (let index = 0; index < 40; index++) {
        const result = await consumer.next();
        if (result.done || !result.value) throw new Error("expected a delivery");
        proxies.push(result.value);
      }
      // Acked together: batched into few dispatch calls; every ack resolves after Redis applied it.
      await Promise.all(proxies.map((proxy) => consumer.ack(proxy)));
      await expectAllAcked(broker, consumer);
    } finally {
      await consumer.close();
      await broker.close();
    }
  });
});
