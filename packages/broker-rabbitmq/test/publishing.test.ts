import type { Duplex } from "node:stream";
import { afterEach, expect, it } from "@jest/globals";
import { actor, Message } from "@dq/core";
import { recordingLogger } from "@dq/core/testing";
import { RabbitmqBroker } from "../src/index.js";
import { AMQP_URL, deleteQueues, describeRabbit, readyCount, uniqueName } from "./helpers.js";

const cleanups: (() => Promise<unknown>)[] = [];

/** What amqplib holds unwritten on the broker's publisher connection: frames in channel buffers, bytes in the socket. */
function unwritten(rabbit: RabbitmqBroker): { frames: number; bytes: number } {
  const connection = (
    rabbit.publisherLink.current as unknown as {
      connection: { stream: Duplex; channels: ({ buffer: Duplex } | null)[] };
    }
  ).connection;
  const frames = connection.channels
    .slice(1)
    .reduce(
      (sum, entry) => sum + (entry ? entry.buffer.readableLength + entry.buffer.writableLength : 0),
      0,
    );
  return { frames, bytes: connection.stream.writableLength };
}

describeRabbit("RabbitmqBroker: publishing", () => {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  });

  function brokerWithQueue(
    prefix: string,
    options: ConstructorParameters<typeof RabbitmqBroker>[0] = {},
  ) {
    const queueName = uniqueName(prefix);
    cleanups.push(() => deleteQueues([queueName]));
    const rabbit = new RabbitmqBroker({ url: AMQP_URL, logger: recordingLogger(), ...options });
    cleanups.unshift(() => rabbit.close());
    rabbit.declareQueue(queueName);
    return { rabbit, queueName };
  }

  it("without confirms, resolves enqueueMany, delayed and concurrent sends only once their frames are in the socket", async () => {
    const { rabbit, queueName } = brokerWithQueue("dqwritten", { confirmDelivery: false });
    const task = actor((_index: number) => undefined, {
      broker: rabbit,
      queueName,
      actorName: "task",
    });
    await task.send(-1); // declares the queue and opens the channel
    await rabbit.enqueueMany(Array.from({ length: 500 }, (_, i) => task.message(i)));
    expect(unwritten(rabbit)).toEqual({ frames: 0, bytes: 0 });
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => task.sendWithOptions({ args: [i], delay: 60_000 })),
    );
    expect(unwritten(rabbit)).toEqual({ frames: 0, bytes: 0 });
    await Promise.all(Array.from({ length: 200 }, (_, i) => task.send(i)));
    expect(unwritten(rabbit)).toEqual({ frames: 0, bytes: 0 });
    // Large bodies: several frames each, and more than the socket takes at once.
    const big = "x".repeat(200_000);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        rabbit.enqueue(new Message({ queueName, actorName: "task", args: [i, big] })),
      ),
    );
    expect(unwritten(rabbit)).toEqual({ frames: 0, bytes: 0 });
    await rabbit.close();
    expect(await readyCount(queueName)).toBe(1 + 500 + 200 + 20);
    expect(await readyCount(`${queueName}.DQ`)).toBe(200);
  });

  for (const confirmDelivery of [false, true]) {
    it(`attaches its listeners once per channel: 200 concurrent sends raise no MaxListenersExceededWarning (confirms ${confirmDelivery ? "on" : "off"})`, async () => {
      const { rabbit, queueName } = brokerWithQueue("dqlisteners", { confirmDelivery });
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on("warning", onWarning);
      try {
        const task = actor((_index: number) => undefined, {
          broker: rabbit,
          queueName,
          actorName: "task",
        });
        // The first wave finds no channel open yet, the second an open one; the third meets back-pressure.
        await Promise.all(Array.from({ length: 200 }, (_, i) => task.send(i)));
        await Promise.all(Array.from({ length: 200 }, (_, i) => task.send(i)));
        const body = "y".repeat(100_000);
        await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            rabbit.enqueue(new Message({ queueName, actorName: "task", args: [i, body] })),
          ),
        );
        // Warnings are emitted on a later tick.
        await new Promise((resolve) => setImmediate(resolve));
        expect(
          warnings.filter((warning) => warning.name === "MaxListenersExceededWarning").map(String),
        ).toEqual([]);
        const channel = rabbit.publisher.openChannel!.channel;
        // Ours once each, and amqplib's own `close` listener.
        expect(
          ["close", "error", "drain", "return"].map((event) => channel.listenerCount(event)),
        ).toEqual([2, 1, 1, 1]);
      } finally {
        process.off("warning", onWarning);
      }
      await rabbit.close();
      expect(await readyCount(queueName)).toBe(600);
    });
  }
});
