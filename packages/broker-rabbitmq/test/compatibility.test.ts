import { afterAll, expect, it } from "@jest/globals";
import { connect } from "amqplib";
import { actor, Worker } from "@dq/core";
import { loadWireFixture, recordingLogger, waitFor } from "@dq/core/testing";
import { RabbitmqBroker } from "../src/index.js";
import {
  AMQP_URL,
  deleteQueues,
  describeRabbit,
  listQueues,
  uniqueName,
  type ListedQueue,
} from "./helpers.js";

interface Recording {
  bodies: Record<string, string>;
  properties: Record<
    string,
    { content_type: null; delivery_mode: number; headers: null; priority: number | null }
  >;
  queues: (ListedQueue & { auto_delete: boolean; exclusive: boolean })[];
}

const recording = loadWireFixture<Recording>("rabbitmq.json");
const RECORDED = "dqfx_rmq";
const created: string[] = [];

/** The recording with its queue names (in names and argument values) renamed to `prefix`. */
function renamed(prefix: string): Recording {
  return JSON.parse(JSON.stringify(recording).replaceAll(RECORDED, prefix)) as Recording;
}

/** amqplib arguments with the recorded AMQP types spelled out (`signedint` → `int`). */
function typedArguments(args: [string, string, unknown][]): Record<string, unknown> {
  return Object.fromEntries(
    args.map(([key, type, value]) => [key, type === "signedint" ? { "!": "int", value } : value]),
  );
}

describeRabbit("RabbitmqBroker: compatibility with Python Dramatiq's recording", () => {
  afterAll(async () => {
    await deleteQueues(created.flatMap((prefix) => [prefix, `${prefix}_p`]));
  });

  it("declares exactly the queues and arguments Python Dramatiq declares", async () => {
    const prefix = uniqueName("dqfx");
    created.push(prefix);
    const expected = renamed(prefix);
    const plain = new RabbitmqBroker({ url: AMQP_URL, logger: recordingLogger() });
    const prioritised = new RabbitmqBroker({
      url: AMQP_URL,
      logger: recordingLogger(),
      maxPriority: 10,
    });
    try {
      plain.declareQueue(prefix);
      prioritised.declareQueue(`${prefix}_p`);
      await plain.getQueueMessageCounts(prefix); // nothing declared yet: declarations are lazy
      expect(listQueues(expected.queues.map((queue) => queue.name))).toEqual([]);
      await plain.enqueueRaw(prefix, "{}");
      await prioritised.enqueueRaw(`${prefix}_p`, "{}");
      const listed = listQueues(expected.queues.map((queue) => queue.name));
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      expect(listed.sort(byName)).toEqual(
        expected.queues
          .map(({ name, durable, arguments: args }) => ({ name, durable, arguments: args }))
          .sort(byName),
      );
    } finally {
      await plain.close();
      await prioritised.close();
    }
  });

  it("runs on queues Python declared, and processes the bodies Python published", async () => {
    const prefix = uniqueName("dqfx");
    created.push(prefix);
    const expected = renamed(prefix);
    // Declare and publish as Python did: the recorded arguments, bodies and properties.
    const connection = await connect(AMQP_URL);
    try {
      const channel = await connection.createChannel();
      for (const queue of expected.queues) {
        await channel.assertQueue(queue.name, {
          durable: queue.durable,
          autoDelete: queue.auto_delete,
          exclusive: queue.exclusive,
          arguments: typedArguments(queue.arguments),
        });
      }
      for (const [queueName, body] of Object.entries(expected.bodies)) {
        const properties = expected.properties[queueName]!;
        // The recorded delayed message is due a minute after it was recorded: make it due now.
        const due = body.replace(/"eta":\d+/, `"eta":${Date.now() + 200}`);
        channel.sendToQueue(queueName, Buffer.from(due), {
          deliveryMode: properties.delivery_mode,
          ...(properties.priority === null ? {} : { priority: properties.priority }),
        });
      }
      await channel.close();
    } finally {
      await connection.close();
    }

    const logger = recordingLogger();
    const plain = new RabbitmqBroker({ url: AMQP_URL, logger });
    const prioritised = new RabbitmqBroker({ url: AMQP_URL, logger, maxPriority: 10 });
    const sums: number[] = [];
    const prios: unknown[] = [];
    actor((x: number, y: number) => void sums.push(x + y), {
      broker: plain,
      queueName: prefix,
      actorName: "rmq_add",
    });
    actor(
      (x: number) => {
        prios.push(x);
      },
      { broker: prioritised, queueName: `${prefix}_p`, actorName: "rmq_prio" },
    );
    const workers = [
      new Worker(plain, { workerTimeout: 100 }),
      new Worker(prioritised, { workerTimeout: 100 }),
    ];
    try {
      for (const worker of workers) await worker.start();
      await waitFor(
        () => sums.length === 2 && prios.length === 1,
        "the three recorded messages",
        15_000,
      );
      expect(sums.sort((a, b) => a - b)).toEqual([3, 11]);
      expect(prios).toEqual([1]);
      await plain.join(prefix, { timeout: 10_000 });
      expect(await plain.getQueueMessageCounts(prefix)).toEqual({ ready: 0, delayed: 0, dead: 0 });
      expect(await prioritised.getQueueMessageCounts(`${prefix}_p`)).toEqual({
        ready: 0,
        delayed: 0,
        dead: 0,
      });
      expect(logger.lines.filter((line) => line.startsWith("error"))).toEqual([]);
    } finally {
      for (const worker of workers) await worker.stop({ timeout: 5000 });
      await plain.close();
      await prioritised.close();
    }
  });

  for (const confirmDelivery of [true, false]) {
    it(`publishes exactly Python's AMQP properties: persistent, priority only when set, no headers (confirms ${confirmDelivery ? "on" : "off"})`, async () => {
      const queueName = uniqueName("dqprops");
      created.push(queueName);
      const broker = new RabbitmqBroker({
        url: AMQP_URL,
        logger: recordingLogger(),
        maxPriority: 10,
        confirmDelivery,
      });
      const connection = await connect(AMQP_URL);
      try {
        broker.declareQueue(queueName);
        const send = actor((_x: number) => undefined, { broker, queueName, actorName: "props" });
        await send.sendWithOptions({ args: [1] });
        await send.sendWithOptions({ args: [2], brokerPriority: 7 } as never);
        const channel = await connection.createChannel();
        // Without confirms a resolved send is in the socket, not necessarily routed yet.
        await waitFor(
          async () => (await channel.checkQueue(queueName)).messageCount === 2,
          "both messages on the queue",
          10_000,
        );
        const seen = [];
        for (let i = 0; i < 2; i++) {
          const got = await channel.get(queueName, { noAck: true });
          if (!got) throw new Error("expected a message");
          const { contentType, deliveryMode, headers, priority, messageId, expiration } =
            got.properties;
          seen.push({
            contentType,
            deliveryMode,
            headers,
            priority,
            messageId,
            expiration,
            body: JSON.parse(got.content.toString()) as { args: number[] },
          });
        }
        await channel.close();
        const [first, second] = seen.sort((a, b) => a.body.args[0]! - b.body.args[0]!);
        // The recording's nulls are absent properties; amqplib reports those as undefined.
        const asRecorded = ({
          content_type,
          delivery_mode,
          headers,
          priority,
        }: Recording["properties"][string]) => ({
          contentType: content_type ?? undefined,
          deliveryMode: delivery_mode,
          headers: headers ?? undefined,
          priority: priority ?? undefined,
        });
        const pick = ({
          contentType,
          deliveryMode,
          headers,
          priority,
        }: NonNullable<typeof first>) => ({ contentType, deliveryMode, headers, priority });
        expect(pick(first!)).toEqual(asRecorded(recording.properties[RECORDED]!));
        expect(pick(second!)).toEqual(asRecorded(recording.properties[`${RECORDED}_p`]!));
        expect([
          first!.messageId,
          first!.expiration,
          second!.messageId,
          second!.expiration,
        ]).toEqual([undefined, undefined, undefined, undefined]);
      } finally {
        await connection.close();
        await broker.close();
      }
    });
  }
});
