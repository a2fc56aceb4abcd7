import type { Channel, ChannelModel } from "amqplib";
import { ConnectionClosed, Message, type DecodeError } from "@dq/core";
import type { AmqpLink } from "./amqp-link.js";
import { QueueArgumentsMismatch, QueueNotFound, QueueTypeUnsupported } from "./errors.js";
import { topology, type TopologyOptions } from "./topology.js";

/** How `declare` declares a queue's topology. */
export interface DeclareOptions extends Omit<TopologyOptions, "serverMajor"> {
  /** Check that the queues exist instead of declaring them. */
  passive?: boolean;
}

/** The version the server announced on connecting (`"0"` when it did not). */
export function serverVersion(model: ChannelModel): string {
  const version = (model.connection as { serverProperties?: { version?: unknown } })
    .serverProperties?.version;
  return typeof version === "string" ? version : "0";
}

/** A message read from a dead-letter queue; `message` is undefined when the body does not decode. */
export interface DeadLetter {
  message: Message | undefined;
  raw: Buffer;
  error: DecodeError | undefined;
}

const errorCode = (error: unknown) => (error as { code?: unknown } | null)?.code;
const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The broker's operations on short-lived channels (declarations, purges, counts, dead-letter
 * reads): each opens a channel of a link, runs, and closes it, mapping AMQP errors to dq errors.
 * @internal
 */
export class ChannelOperations {
  /** @param defaultLink - the link used when an operation names none (the publisher connection) */
  constructor(private readonly defaultLink: AmqpLink) {}

  /** Runs `work` on a short-lived channel of `link` (by default the publisher connection). */
  async withChannel<T>(
    work: (channel: Channel) => Promise<T>,
    link: AmqpLink = this.defaultLink,
  ): Promise<T> {
    const model = await link.get();
    let channel: Channel;
    try {
      channel = await model.createChannel();
    } catch (error) {
      throw new ConnectionClosed(`could not open a RabbitMQ channel: ${describe(error)}`, {
        cause: error,
      });
    }
    // A channel error (404, 406) closes the channel; the operation's promise carries it.
    channel.on("error", () => undefined);
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /**
   * Declares `q`, `q.DQ` and `q.XQ` of a canonical queue name with Dramatiq's arguments (and the
   * queue type's), or, with `passive`, checks that they exist.
   * @throws QueueArgumentsMismatch when one exists with other arguments
   * @throws QueueTypeUnsupported when the queue type cannot do what the options ask on this server
   * @throws QueueNotFound when passive and one does not exist
   */
  async declare(queueName: string, options: DeclareOptions, link: AmqpLink): Promise<void> {
    const { queueType, maxPriority, passive } = options;
    const version = serverVersion(await link.get());
    const serverMajor = Number.parseInt(version, 10) || 3;
    if (!passive && queueType === "quorum" && maxPriority !== undefined && serverMajor < 4)
      throw new QueueTypeUnsupported(
        "quorum",
        "maxPriority (x-max-priority)",
        version,
        "quorum queues have no priorities before RabbitMQ 4.0; use queueType classic or drop maxPriority",
      );
    for (const queue of topology(queueName, { ...options, serverMajor })) {
      await this.withChannel(async (channel) => {
        try {
          if (passive) await channel.checkQueue(queue.name);
          else
            await channel.assertQueue(queue.name, {
              durable: true,
              exclusive: false,
              autoDelete: false,
              arguments: queue.wireArguments,
            });
        } catch (error) {
          if (passive && errorCode(error) === 404)
            throw new QueueNotFound(queue.name, { cause: error });
          if (errorCode(error) === 406)
            throw new QueueArgumentsMismatch(queue.name, queue.arguments, { cause: error });
          throw new ConnectionClosed(
            `could not declare queue ${JSON.stringify(queue.name)}: ${describe(error)}`,
            { cause: error },
          );
        }
      }, link);
    }
  }

  /** Ready-message count of one queue; 0 when it does not exist. */
  async readyCount(queueName: string): Promise<number> {
    return this.withChannel(async (channel) => {
      try {
        return (await channel.checkQueue(queueName)).messageCount;
      } catch (error) {
        if (errorCode(error) === 404) return 0;
        throw new ConnectionClosed(
          `could not inspect queue ${JSON.stringify(queueName)}: ${describe(error)}`,
          { cause: error },
        );
      }
    });
  }

  /**
   * Reads up to `limit` messages of a dead-letter queue without removing them (they are fetched
   * unacked and returned when the reading channel closes); none when it does not exist.
   */
  async deadLetters(xq: string, limit: number): Promise<DeadLetter[]> {
    return this.withChannel(async (channel) => {
      const letters: DeadLetter[] = [];
      try {
        while (letters.length < limit) {
          const got = await channel.get(xq, { noAck: false });
          if (!got) break;
          try {
            letters.push({
              message: Message.decode(got.content),
              raw: got.content,
              error: undefined,
            });
          } catch (error) {
            letters.push({ message: undefined, raw: got.content, error: error as DecodeError });
          }
        }
      } catch (error) {
        if (errorCode(error) !== 404)
          throw new ConnectionClosed(`could not read ${JSON.stringify(xq)}: ${describe(error)}`, {
            cause: error,
          });
      }
      return letters;
    });
  }

  /** Purges one queue; a missing queue is skipped. */
  async purge(queue: string): Promise<void> {
    await this.withChannel(async (channel) => {
      try {
        await channel.purgeQueue(queue);
      } catch (error) {
        if (errorCode(error) !== 404)
          throw new ConnectionClosed(
            `could not purge ${JSON.stringify(queue)}: ${describe(error)}`,
            { cause: error },
          );
      }
    });
  }
}
