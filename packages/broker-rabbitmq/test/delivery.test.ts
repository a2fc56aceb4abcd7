import { afterEach, expect, it } from "@jest/globals";
import { connect } from "amqplib";
import { ConnectionFailed, Message, brokerFromUrl, type MessageProxy } from "@dq/core";
import { recordingLogger } from "@dq/core/testing";
import { RabbitmqBroker } from "../src/index.js";
import {
  AMQP_URL,
  closeConnectionsNamed,
  deleteQueues,
  describeRabbit,
  readyCount,
  uniqueName,
} from "./helpers.js";

const cleanups: (() => Promise<unknown>)[] = [];

describeRabbit("RabbitmqBroker: priorities, confirms and connections", () => {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  });

  function broker(options: ConstructorParameters<typeof RabbitmqBroker>[0] = {}) {
    const created = new RabbitmqBroker({ url: AMQP_URL, logger: recordingLogger(), ...options });
    cleanups.unshift(() => created.close());
    return created;
  }

  /** A fresh queue, deleted after the test, declared on a broker made with `options`. */
  function brokerWithQueue(
    prefix: string,
    options: ConstructorParameters<typeof RabbitmqBroker>[0] = {},
  ) {
    const queueName = uniqueName(prefix);
    cleanups.push(() => deleteQueues([queueName]));
    const rabbit = broker(options);
    rabbit.declareQueue(queueName);
    return { rabbit, queueName };
  }

  it("loses nothing published without confirms when closed right after", async () => {
    const queueName = uniqueName("dqclose");
    cleanups.push(() => deleteQueues([queueName]));
    const rabbit = new RabbitmqBroker({
      url: AMQP_URL,
      logger: recordingLogger(),
      confirmDelivery: false,
    });
    rabbit.declareQueue(queueName);
    await rabbit.enqueueMany(
      Array.from({ length: 100 }, (_, i) => new Message({ queueName, actorName: "x", args: [i] })),
    );
    await rabbit.close();
    expect(await readyCount(queueName)).toBe(100);
  });

  it("keeps sending one at a time, without confirms, after the server closes the publisher's connection", async () => {
    const logger = recordingLogger();
    const connectionName = uniqueName("dqfastconn");
    const { rabbit, queueName } = brokerWithQueue("dqfast", {
      connectionName,
      logger,
      confirmDelivery: false,
    });
    const send = (i: number) =>
      rabbit.enqueue(new Message({ queueName, actorName: "x", args: [i] }));
    // The first send declares the queue and opens the channel; the next ones go straight out.
    for (let i = 0; i < 20; i++) await send(i);
    expect(await closeConnectionsNamed(connectionName)).toBe(1);
    // The client sees the close (its channel with it) before the next sends.
    for (
      let i = 0;
      i < 100 &&
      !logger.lines.some((line) => line.includes("Lost the RabbitMQ publisher connection"));
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (let i = 20; i < 40; i++) await send(i);
    await rabbit.close();
    expect(await readyCount(queueName)).toBe(40);
  });

  it("leaves no listeners behind on its channel when publishing meets back-pressure", async () => {
    const { rabbit, queueName } = brokerWithQueue("dqdrain", { confirmDelivery: false });
    // 20 MB in one call: the socket's buffer fills (and drains) many times.
    const body = "x".repeat(1000);
    await rabbit.enqueueMany(
      Array.from(
        { length: 20_000 },
        (_, i) => new Message({ queueName, actorName: "x", args: [i, body] }),
      ),
    );
    const channel = rabbit.publisher.openChannel!.channel;
    // Ours once each, and amqplib's own `close` listener.
    expect(
      ["close", "error", "drain", "return"].map((event) => channel.listenerCount(event)),
    ).toEqual([2, 1, 1, 1]);
    await rabbit.close();
    expect(await readyCount(queueName)).toBe(20_000);
  });

  it("acks one tick's messages together without covering one still running or nacked", async () => {
    const { rabbit, queueName } = brokerWithQueue("dqacks");
    await rabbit.enqueueMany(
      Array.from({ length: 6 }, (_, i) => new Message({ queueName, actorName: "a", args: [i] })),
    );
    const consumer = rabbit.consume(queueName, { prefetch: 6, timeout: 1000 });
    const proxies: MessageProxy[] = [];
    for (let i = 0; i < 50 && proxies.length < 6; i++) {
      const proxy = consumer.nextReady() ?? (await consumer.next()).value;
      if (proxy) proxies.push(proxy);
    }
    expect(proxies.map((proxy) => proxy.args[0])).toEqual([0, 1, 2, 3, 4, 5]);
    await consumer.nack(proxies[4]!);
    // Acked in one tick while #2 still runs: #0 and #1 as one multiple ack, #3 and #5 alone.
    await Promise.all([0, 1, 3, 5].map((index) => consumer.ack(proxies[index]!)));
    // Closing the channel returns what it holds unsettled: #2 alone.
    await consumer.close();
    expect(await readyCount(`${queueName}.XQ`)).toBe(1);
    const connection = await connect(AMQP_URL);
    try {
      const channel = await connection.createChannel();
      const left = await channel.get(queueName, { noAck: true });
      expect(left && JSON.parse(left.content.toString()).args).toEqual([2]);
      expect(await channel.get(queueName, { noAck: true })).toBe(false);
    } finally {
      await connection.close();
    }
  });

  it("delivers by brokerPriority on a maxPriority queue, highest first", async () => {
    const { rabbit, queueName } = brokerWithQueue("dqprio", {
      maxPriority: 10,
      confirmDelivery: true,
    });
    const priorities = [1, 5, undefined, 9, 3];
    for (const [index, brokerPriority] of priorities.entries()) {
      const options = brokerPriority === undefined ? {} : { brokerPriority };
      await rabbit.enqueue(new Message({ queueName, actorName: "p", args: [index], options }));
    }
    const consumer = rabbit.consume(queueName, { prefetch: 1, timeout: 2000 });
    const order: unknown[] = [];
    try {
      for (let i = 0; i < priorities.length; i++) {
        const proxy = (await consumer.next()).value as MessageProxy | null;
        if (!proxy) throw new Error("expected a delivery");
        order.push(proxy.options.brokerPriority ?? null);
        await consumer.ack(proxy);
      }
    } finally {
      await consumer.close();
    }
    expect(order).toEqual([9, 5, 3, 1, null]);
  });

  it("confirms by default: enqueue resolves once the server has the messages", async () => {
    const { rabbit, queueName } = brokerWithQueue("dqconfirm");
    expect(rabbit.confirmDelivery).toBe(true);
    await rabbit.enqueueMany(
      Array.from({ length: 25 }, (_, i) => new Message({ queueName, actorName: "c", args: [i] })),
    );
    await rabbit.enqueue(new Message({ queueName, actorName: "c", args: ["later"] }), {
      delay: 60_000,
    });
    expect(await rabbit.getQueueMessageCounts(queueName)).toEqual({
      ready: 25,
      delayed: 1,
      dead: 0,
    });
  });

  it("with confirmDelivery, re-declares a queue deleted behind its back and delivers the returned message", async () => {
    const { rabbit, queueName } = brokerWithQueue("dqreturn", { confirmDelivery: true });
    await rabbit.enqueue(new Message({ queueName, actorName: "r", args: [1] }));
    await deleteQueues([queueName]);
    await rabbit.enqueue(new Message({ queueName, actorName: "r", args: [2] }));
    expect((await rabbit.getQueueMessageCounts(queueName)).ready).toBe(1);
    const lines = (rabbit.logger as ReturnType<typeof recordingLogger>).lines;
    expect(
      lines.some((line) => line.includes("returned a message") && line.includes(queueName)),
    ).toBe(true);
  });

  it("fails over to the next URL", async () => {
    const queueName = uniqueName("dqfailover");
    cleanups.push(() => deleteQueues([queueName]));
    const rabbit = broker({
      url: `amqp://guest:guest@127.0.0.1:1;${AMQP_URL}`,
      confirmDelivery: true,
    });
    rabbit.declareQueue(queueName);
    await rabbit.enqueue(new Message({ queueName, actorName: "f" }));
    expect((await rabbit.getQueueMessageCounts(queueName)).ready).toBe(1);
  });

  it("gives producers ConnectionFailed with the cause when no server answers", async () => {
    const rabbit = broker({
      url: ["amqp://guest:secret@127.0.0.1:1"],
      connectionAttempts: 2,
      maxRetryDelay: 50,
    });
    const queueName = uniqueName("dqdown");
    rabbit.declareQueue(queueName);
    const failure = await rabbit.enqueue(new Message({ queueName, actorName: "x" })).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(ConnectionFailed.isInstance(failure)).toBe(true);
    const error = failure as ConnectionFailed;
    expect(error.message).toContain("127.0.0.1:1");
    expect(error.message).not.toContain("secret");
    expect((error.cause as { code?: string }).code).toBe("ECONNREFUSED");
  });

  it("asks for a heartbeat unless the URL sets one, and connects lazily", async () => {
    const rabbit = broker({ heartbeat: 7 });
    expect(rabbit.urls[0]).toContain("heartbeat=7");
    expect(broker({ url: `${AMQP_URL}?heartbeat=3` }).urls[0]).toMatch(/heartbeat=3$/);
    expect(rabbit.publisherLink.current).toBeUndefined();
    const connection = await rabbit.publisherLink.get();
    expect(connection).toBe(rabbit.publisherLink.current);
  });

  it("registers amqp:// and amqps:// for getBroker", () => {
    const fromUrl = brokerFromUrl(AMQP_URL);
    expect(fromUrl).toBeInstanceOf(RabbitmqBroker);
    expect(brokerFromUrl("amqps://guest:guest@127.0.0.1:5671")).toBeInstanceOf(RabbitmqBroker);
  });
});

describeRabbit("RabbitmqBroker: bad input", () => {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  });

  it("dead-letters an undecodable body to .XQ with a logged reason", async () => {
    const queueName = uniqueName("dqbad");
    cleanups.push(() => deleteQueues([queueName]));
    const logger = recordingLogger();
    const rabbit = new RabbitmqBroker({ url: AMQP_URL, logger });
    cleanups.unshift(() => rabbit.close());
    rabbit.declareQueue(queueName);
    await rabbit.getQueueMessageCounts(queueName);
    await rabbit.enqueueRaw(queueName, "\u0000 definitely not json");
    const consumer = rabbit.consume(queueName, { prefetch: 1, timeout: 2000 });
    try {
      const proxy = (await consumer.next()).value as MessageProxy;
      expect(proxy.undecodable).toBe(true);
      await consumer.nack(proxy);
    } finally {
      await consumer.close();
    }
    const letters = await rabbit.getDeadLetters(queueName);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.raw.toString()).toBe("\u0000 definitely not json");
    expect(letters[0]!.error?.name).toBe("DecodeError");
    expect(
      logger.lines.some(
        (line) =>
          line.startsWith("warn Dead-lettered an undecodable delivery") &&
          line.includes(`${queueName}.XQ`) &&
          line.includes("could not decode JSON"),
      ),
    ).toBe(true);
  });

  it("dead-letters valid JSON holding invalid UTF-8 with the reason, instead of decoding it with U+FFFD", async () => {
    const queueName = uniqueName("dqutf");
    cleanups.push(() => deleteQueues([queueName]));
    const logger = recordingLogger();
    const rabbit = new RabbitmqBroker({ url: AMQP_URL, logger });
    cleanups.unshift(() => rabbit.close());
    rabbit.declareQueue(queueName);
    await rabbit.getQueueMessageCounts(queueName);
    const body = Buffer.concat([
      Buffer.from(`{"queue_name":"${queueName}","actor_name":"utf8","args":["caf`),
      Buffer.from([0xff]),
      Buffer.from('"],"kwargs":{},"options":{},"message_id":"u-1","message_timestamp":1}'),
    ]);
    await rabbit.enqueueRaw(queueName, body);
    const consumer = rabbit.consume(queueName, { prefetch: 1, timeout: 2000 });
    try {
      const proxy = (await consumer.next()).value as MessageProxy;
      expect(proxy.undecodable).toBe(true);
      await consumer.nack(proxy);
    } finally {
      await consumer.close();
    }
    const letters = await rabbit.getDeadLetters(queueName);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.raw.equals(body)).toBe(true);
    expect(letters[0]!.error?.message).toContain("not valid UTF-8");
    expect(
      logger.lines.some(
        (line) =>
          line.startsWith("warn Dead-lettered an undecodable delivery") &&
          line.includes("not valid UTF-8"),
      ),
    ).toBe(true);
  });

  it("names the queue and arguments when an existing queue was declared differently", async () => {
    const queueName = uniqueName("dqmismatch");
    cleanups.push(() => deleteQueues([queueName]));
    const connection = await connect(AMQP_URL);
    const channel = await connection.createChannel();
    await channel.assertQueue(queueName, {
      durable: true,
      arguments: { "x-max-priority": { "!": "int", value: 5 } },
    });
    await connection.close();
    const rabbit = new RabbitmqBroker({ url: AMQP_URL, logger: recordingLogger() });
    cleanups.unshift(() => rabbit.close());
    rabbit.declareQueue(queueName);
    const publishing = rabbit.enqueue(new Message({ queueName, actorName: "m" }));
    await expect(publishing).rejects.toMatchObject({ name: "QueueArgumentsMismatch", queueName });
    const error = await publishing.then(
      () => new Error("expected a rejection"),
      (caught: unknown) => caught as Error,
    );
    expect(error.message).toContain(JSON.stringify(queueName));
    expect(error.message).toContain(`"x-dead-letter-routing-key":"${queueName}.XQ"`);
    expect(error.message).toContain("PRECONDITION_FAILED");
    const consumer = rabbit.consume(queueName, { prefetch: 1, timeout: 100 });
    await expect(consumer.next()).rejects.toMatchObject({ name: "QueueArgumentsMismatch" });
    await consumer.close();
  });
});
