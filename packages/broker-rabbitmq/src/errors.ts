import { BrokerError } from "@dq/core";

/**
 * A queue already exists on the server with arguments other than the ones dq declares (RabbitMQ
 * answered `406 PRECONDITION_FAILED`). Usually the queue was declared by another producer with a
 * different `maxPriority`, or by a tool that did not follow Dramatiq's topology.
 */
export class QueueArgumentsMismatch extends BrokerError {
  /** The queue whose declaration failed. */
  readonly queueName: string;
  /** The arguments dq declared it with. */
  readonly expectedArguments: Record<string, unknown>;

  constructor(
    queueName: string,
    expectedArguments: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    const reason = (options?.cause as Error | undefined)?.message ?? "PRECONDITION_FAILED";
    super(
      `queue ${JSON.stringify(queueName)} already exists with other arguments than dq declares ` +
        `(durable, ${JSON.stringify(expectedArguments)}); RabbitMQ said: ${reason}. ` +
        `Use the same maxPriority as the other producers, or delete the queue.`,
      options,
    );
    this.queueName = queueName;
    this.expectedArguments = expectedArguments;
  }
}

/**
 * The installed amqplib lacks an internal this package relies on to publish exactly Python
 * Dramatiq's properties and to learn when a message reached the socket. Install the amqplib
 * version range this package declares.
 */
export class AmqplibIncompatible extends BrokerError {
  /** The missing internal, e.g. `Channel#sendMessage`. */
  readonly missing: string;

  constructor(missing: string) {
    super(
      `the installed amqplib has no ${missing}: @dq/broker-rabbitmq needs amqplib ^2.3.1 (the range in its package.json)`,
    );
    this.missing = missing;
  }
}
