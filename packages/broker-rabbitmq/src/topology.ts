import { deadLetterQueueName, delayQueueName, envInteger } from "@dq/core/adapter";

/** How long dead letters stay in `q.XQ`: 7 days, or env `dramatiq_dead_message_ttl`. */
export function deadMessageTtl(): number {
  return envInteger("dramatiq_dead_message_ttl", 604_800_000);
}

/**
 * amqplib guesses integer widths from the value (10 becomes a byte); Python's pika writes
 * `signedint`. RabbitMQ compares argument types on re-declaration, so spell the type out.
 */
function signedInt(value: number): { "!": "int"; value: number } {
  return { "!": "int", value };
}

/** One queue of a canonical queue's topology, as it is declared. */
export interface QueueDeclaration {
  name: string;
  /** What amqplib sends (integers typed as `signedint`). */
  wireArguments: Record<string, unknown>;
  /** The same arguments as plain values, for messages and tests. */
  arguments: Record<string, string | number>;
}

/**
 * The three queues of Python Dramatiq's RabbitMQ topology for canonical queue `queueName`:
 * `q` and `q.DQ` dead-letter to `q.XQ` through the default exchange (and carry `x-max-priority`
 * when set); `q.XQ` expires its messages after the dead-message TTL.
 */
export function topology(queueName: string, maxPriority: number | undefined): QueueDeclaration[] {
  const xq = deadLetterQueueName(queueName);
  const main = (name: string): QueueDeclaration => {
    const args: Record<string, string | number> = {
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": xq,
    };
    const wire: Record<string, unknown> = { ...args };
    if (maxPriority !== undefined) {
      args["x-max-priority"] = maxPriority;
      wire["x-max-priority"] = signedInt(maxPriority);
    }
    return { name, arguments: args, wireArguments: wire };
  };
  const ttl = deadMessageTtl();
  return [
    main(queueName),
    main(delayQueueName(queueName)),
    {
      name: xq,
      arguments: { "x-message-ttl": ttl },
      wireArguments: { "x-message-ttl": signedInt(ttl) },
    },
  ];
}
