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

/**
 * The queue type cannot do what the options ask of it on this server: `maxPriority` (queue
 * priorities, `x-max-priority`) on quorum queues of RabbitMQ 3.x. Use classic queues for
 * priorities there, or drop `maxPriority`.
 */
export class QueueTypeUnsupported extends BrokerError {
  /** The queue type, e.g. `quorum`. */
  readonly queueType: string;
  /** The feature, e.g. `maxPriority`. */
  readonly feature: string;
  /** The server's version, as it announced it. */
  readonly serverVersion: string;

  constructor(queueType: string, feature: string, serverVersion: string, hint: string) {
    super(`${queueType} queues on RabbitMQ ${serverVersion} do not support ${feature}: ${hint}`);
    this.queueType = queueType;
    this.feature = feature;
    this.serverVersion = serverVersion;
  }
}

/**
 * With `passive: true`, a queue dq expects (`q`, `q.DQ` or `q.XQ`) does not exist: whoever
 * declares the queues (a deployment script, an operator) has not declared it.
 */
export class QueueNotFound extends BrokerError {
  /** The missing queue. */
  readonly queueName: string;

  constructor(queueName: string, options?: { cause?: unknown }) {
    super(
      `queue ${JSON.stringify(queueName)} does not exist, and passive mode does not declare queues: ` +
        `declare it (and its .DQ and .XQ queues) first, or drop passive: true`,
      options,
    );
    this.queueName = queueName;
  }
}
