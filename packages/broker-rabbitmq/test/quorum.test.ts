// Quorum queues on the shared RabbitMQ (a quorum queue works on a single node): the broker
// contract (retries, delays, dead letters: the same assertions as the classic conformance run),
// the declared arguments, the delivery limit, the errors, and passive mode.
import { afterAll, afterEach, expect, it } from "@jest/globals";
import { InvalidOptionError } from "@dq/core";
import { deadLetterQueueName, delayQueueName } from "@dq/core/adapter";
import { recordingLogger, rejection } from "@dq/core/testing";
import { defineBrokerTests } from "@dq/test-suite";
import { connect } from "amqplib";
import {
  QueueNotFound,
  QueueTypeUnsupported,
  RabbitmqBroker,
  type RabbitmqBrokerOptions,
} from "../src/index.js";
import { AMQP_URL, deleteQueues, describeRabbit, listQueues, uniqueName } from "./helpers.js";

const brokers: RabbitmqBroker[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

function quorumBroker(options: RabbitmqBrokerOptions = {}): RabbitmqBroker {
  const broker = new RabbitmqBroker({
    url: AMQP_URL,
    connectionName: "dq quorum",
    queueType: "quorum",
    ...options,
  });
  brokers.push(broker);
  return broker;
}

const argumentsOf = (row: { arguments: [string, string, unknown][] }) =>
  Object.fromEntries(row.arguments.map(([key, , value]) => [key, value]));

describeRabbit("RabbitmqBroker on quorum queues", () => {
  defineBrokerTests("RabbitmqBroker (quorum queues)", (options) => quorumBroker(options), {
    async deadLetterIds(broker, queueName) {
      const letters = await (broker as RabbitmqBroker).getDeadLetters(queueName);
      return letters.flatMap((letter) => (letter.message ? [letter.message.messageId] : []));
    },
    async enqueueRaw(broker, queueName, data) {
      await (broker as RabbitmqBroker).enqueueRaw(queueName, data);
    },
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  });

  afterAll(async () => {
    await Promise.all(brokers.map((broker) => broker.close().catch(() => undefined)));
    await deleteQueues(new Set(brokers.flatMap((broker) => broker.getDeclaredQueues())));
  });

  it("declares q, q.DQ and q.XQ as durable quorum queues dead-lettering to q.XQ", async () => {
    const queueName = uniqueName("harabbit-q");
    const broker = quorumBroker({ deliveryLimit: 3 });
    broker.declareQueue(queueName);
    await broker.enqueueRaw(queueName, "{}");
    const rows = listQueues([queueName, delayQueueName(queueName), deadLetterQueueName(queueName)]);
    const byName = new Map(rows.map((row) => [row.name, row]));
    const main = byName.get(queueName)!;
    expect(main.durable).toBe(true);
    expect(argumentsOf(main)).toEqual({
      "x-queue-type": "quorum",
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": deadLetterQueueName(queueName),
      "x-delivery-limit": 3,
    });
    // The delay queue never has a delivery limit (see topology.ts); this server is 3.x.
    expect(argumentsOf(byName.get(delayQueueName(queueName))!)).toEqual({
      "x-queue-type": "quorum",
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": deadLetterQueueName(queueName),
    });
    expect(argumentsOf(byName.get(deadLetterQueueName(queueName))!)).toMatchObject({
      "x-queue-type": "quorum",
    });
  });

  it("dead-letters a message redelivered past deliveryLimit to q.XQ (not dropped)", async () => {
    const queueName = uniqueName("harabbit-limit");
    const broker = quorumBroker({ deliveryLimit: 2 });
    broker.declareQueue(queueName);
    await broker.enqueueRaw(queueName, '{"poison":true}');
    // A consumer that keeps returning the message, as a worker dying on it would.
    const connection = await connect(AMQP_URL);
    cleanups.push(() => connection.close());
    const channel = await connection.createChannel();
    for (let i = 0; i < 5; i++) {
      const got = await channel.get(queueName, { noAck: false });
      if (!got) break;
      channel.nack(got, false, true);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const letters = await broker.getDeadLetters(queueName);
    expect(letters.map((letter) => letter.raw.toString())).toEqual(['{"poison":true}']);
    expect((await broker.getQueueMessageCounts(queueName)).ready).toBe(0);
  });

  it("refuses maxPriority on quorum queues of RabbitMQ 3.x with QueueTypeUnsupported", async () => {
    const broker = quorumBroker({ maxPriority: 10 });
    const error = await rejection(broker.enqueueRaw(uniqueName("harabbit-prio"), "{}"));
    expect(QueueTypeUnsupported.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /quorum queues on RabbitMQ 3\.\d+\.\d+ do not support maxPriority/,
    );
  });

  it("checks option combinations up front", () => {
    expect(() => new RabbitmqBroker({ deliveryLimit: 3 })).toThrow(InvalidOptionError);
    expect(() => new RabbitmqBroker({ queueType: "stream" as "quorum" })).toThrow(
      /invalid queueType "stream": expected "classic" or "quorum"/,
    );
    expect(() => new RabbitmqBroker({ url: AMQP_URL, urls: [AMQP_URL] })).toThrow(/url or urls/);
    expect(() => new RabbitmqBroker({ url: AMQP_URL, tls: { ca: "x" } })).toThrow(/amqps/);
    expect(
      () =>
        new RabbitmqBroker({ url: "amqps://u:p@h", tls: { rejectUnauthorized: "no" as never } }),
    ).toThrow(/invalid tls\.rejectUnauthorized/);
  });

  it("a quorum broker on classic queues of the same name gets QueueArgumentsMismatch", async () => {
    const queueName = uniqueName("harabbit-mix");
    const classic = new RabbitmqBroker({ url: AMQP_URL });
    brokers.push(classic);
    classic.declareQueue(queueName);
    await classic.enqueueRaw(queueName, "{}");
    const error = await rejection(quorumBroker().enqueueRaw(queueName, "{}"));
    expect((error as Error).name).toBe("QueueArgumentsMismatch");
  });

  it("passive mode uses queues declared by someone else, and names a missing one", async () => {
    const queueName = uniqueName("harabbit-passive");
    const owner = quorumBroker();
    owner.declareQueue(queueName);
    await owner.enqueueRaw(queueName, '{"from":"owner"}');

    const logger = recordingLogger();
    const user = new RabbitmqBroker({ url: AMQP_URL, passive: true, logger });
    brokers.push(user);
    user.declareQueue(queueName);
    await user.enqueueRaw(queueName, '{"from":"passive"}');
    expect((await user.getQueueMessageCounts(queueName)).ready).toBe(2);

    const missing = uniqueName("harabbit-missing");
    const error = await rejection(user.enqueueRaw(missing, "{}"));
    expect(QueueNotFound.isInstance(error)).toBe(true);
    expect((error as QueueNotFound).queueName).toBe(missing);
    expect((error as Error).message).toContain(JSON.stringify(missing));
    // Passive mode declared nothing.
    expect(listQueues([missing, delayQueueName(missing)])).toEqual([]);
  });
});
