import { deadLetterQueueName, delayQueueName } from "@dq/core/adapter";
import { connect } from "amqplib";

/** The test server; loopback by default. */
export const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

/** Deletes a queue with its delay and dead-letter queues. */
export async function deleteQueues(name: string): Promise<void> {
  const connection = await connect(AMQP_URL);
  try {
    for (const queue of [name, delayQueueName(name), deadLetterQueueName(name)]) {
      const channel = await connection.createChannel();
      channel.on("error", () => undefined);
      await channel.deleteQueue(queue).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
  } finally {
    await connection.close();
  }
}
