import { actor, Middleware, Worker, type Broker, type MessageProxy } from "@dq/core";
import { RedisBroker } from "@dq/broker-redis";
import { deletePrefix } from "../redis-util.js";
import type { Producer, Scope, SystemDriver, WorkerHandle } from "./system.js";

/** Reports each acked message's index: dq's "job is done". */
export class CompletionSignal extends Middleware {
  constructor(private readonly onComplete: (index: number) => void) {
    super();
  }
  override afterAck(_broker: Broker, message: MessageProxy): void {
    this.onComplete(message.args[0] as number);
  }
}

/** The no-op actor, declared on a broker. */
export function declareNoop(broker: Broker, queueName: string) {
  return actor(function benchNoop(_index: number) {}, { broker, queueName });
}

/** A producer on any dq broker: `actor.send` one at a time, `broker.enqueueMany` in bulk. */
export function dqProducer(broker: Broker, queueName: string): Producer {
  const noop = declareNoop(broker, queueName);
  return {
    async enqueue(index) {
      await noop.send(index);
    },
    async enqueueBulk(from, count) {
      const messages = new Array(count);
      for (let i = 0; i < count; i++) messages[i] = noop.message(from + i);
      await broker.enqueueMany(messages);
    },
    close: () => broker.close(),
  };
}

/** Starts a dq Worker with the default middleware plus the completion signal. */
export async function dqWorker(
  broker: Broker,
  queueName: string,
  concurrency: number,
  onComplete: (index: number) => void,
): Promise<WorkerHandle> {
  broker.addMiddleware(new CompletionSignal(onComplete));
  declareNoop(broker, queueName);
  const worker = new Worker(broker, { concurrency });
  await worker.start();
  return {
    async close() {
      await worker.stop();
      await broker.close();
    },
  };
}

const QUEUE = "bench";

/** dq with `@dq/broker-redis`. */
export const dqRedis: SystemDriver = {
  id: "dq",
  label: "dq",
  server: "redis",
  async createProducer(scope: Scope) {
    return dqProducer(new RedisBroker({ url: scope.redisUrl, namespace: scope.prefix }), QUEUE);
  },
  async startWorker(scope, concurrency, onComplete) {
    return dqWorker(
      new RedisBroker({ url: scope.redisUrl, namespace: scope.prefix }),
      QUEUE,
      concurrency,
      onComplete,
    );
  },
  async cleanup(scope) {
    await deletePrefix(scope.redisUrl, scope.prefix);
  },
};
