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

/** How the queues of a canonical queue are declared. */
export interface TopologyOptions {
  /** `x-max-priority` of `q` and `q.DQ` (classic queues, and quorum queues before 4.0 refuse it). */
  maxPriority?: number;
  /** `x-queue-type` of all three queues (default classic: no `x-queue-type`, as Dramatiq). */
  queueType?: "classic" | "quorum";
  /** `x-delivery-limit` of `q` (quorum only): unset means unlimited, as on classic queues. */
  deliveryLimit?: number;
  /**
   * The server's major version (quorum queues only): from 4.0 an unset delivery limit means 20,
   * so "unlimited" is spelled `-1`; and queue priorities need no `x-max-priority`.
   */
  serverMajor?: number;
}

/**
 * The three queues of Python Dramatiq's RabbitMQ topology for canonical queue `queueName`:
 * `q` and `q.DQ` dead-letter to `q.XQ` through the default exchange (and carry `x-max-priority`
 * when set); `q.XQ` expires its messages after the dead-message TTL. With `queueType: "quorum"`
 * each also carries `x-queue-type: quorum`; `q` may carry `x-delivery-limit` (a message redelivered
 * more often is dead-lettered to `q.XQ`); `q.DQ` never does (delayed messages are returned on every
 * worker restart, which must not count against them).
 */
export function topology(
  queueName: string,
  options: TopologyOptions | number | undefined = {},
): QueueDeclaration[] {
  const {
    maxPriority,
    queueType = "classic",
    deliveryLimit,
    serverMajor = 3,
  } = typeof options === "object" ? options : { maxPriority: options };
  const quorum = queueType === "quorum";
  const xq = deadLetterQueueName(queueName);
  const declaration = (
    name: string,
    args: Record<string, string | number>,
    integers: readonly string[],
  ): QueueDeclaration => {
    if (quorum) args["x-queue-type"] = "quorum";
    const wire: Record<string, unknown> = { ...args };
    for (const key of integers) wire[key] = signedInt(args[key] as number);
    return { name, arguments: args, wireArguments: wire };
  };
  const main = (name: string, limit: number | undefined): QueueDeclaration => {
    const args: Record<string, string | number> = {
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": xq,
    };
    const integers: string[] = [];
    // Quorum queues of 4.x have two fixed priority levels and refuse `x-max-priority`.
    if (maxPriority !== undefined && !(quorum && serverMajor >= 4)) {
      args["x-max-priority"] = maxPriority;
      integers.push("x-max-priority");
    }
    if (quorum && (limit !== undefined || serverMajor >= 4)) {
      args["x-delivery-limit"] = limit ?? -1;
      integers.push("x-delivery-limit");
    }
    return declaration(name, args, integers);
  };
  const ttl = deadMessageTtl();
  return [
    main(queueName, deliveryLimit),
    main(delayQueueName(queueName), undefined),
    declaration(xq, { "x-message-ttl": ttl }, ["x-message-ttl"]),
  ];
}
