import { BrokerError } from "@dq/core";
/**
 * A queue already exists on the server with arguments other than the ones dq declares (RabbitMQ
 * answered `406 PRECONDITION_FAILED`). Usually the queue was declared by another producer with a
 * different `maxPriority`, or by a tool that did not follow Dramatiq's topology.
 */
export class QueueArgumentsMismatch extends BrokerError {
    /** The queue whose declaration failed. */
    queueName;
    /** The arguments dq declared it with. */
    expectedArguments;
    constructor(queueName, expectedArguments, options) {
        const reason = options?.cause?.message ?? "PRECONDITION_FAILED";
        super(`queue ${JSON.stringify(queueName)} already exists with other arguments than dq declares ` +
            `(durable, ${JSON.stringify(expectedArguments)}); RabbitMQ said: ${reason}. ` +
            `Use the same maxPriority as the other producers, or delete the queue.`, options);
        this.queueName = queueName;
        this.expectedArguments = expectedArguments;
    }
}
