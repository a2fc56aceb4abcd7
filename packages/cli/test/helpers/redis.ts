// Redis for the cross-process tests: a namespace per test, and skip-or-fail when Redis is away.
import { randomBytes } from "node:crypto";
import { addressFromUrl, describeWithServer, waitFor } from "@dq/core/testing";
import { RedisBroker } from "@dq/broker-redis";
import { Message } from "@dq/core";

export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Defines the tests when Redis answers; otherwise skips them with a notice, or fails under CI. */
export function describeWithRedis(name: string, body: () => void): void {
  describeWithServer(name, addressFromUrl(redisUrl, 6379), body);
}

/** A test's own namespace on the shared Redis, with a client to send jobs and read results. */
export class TestRedis {
  readonly namespace = `dq-cli-test-${randomBytes(4).toString("hex")}`;
  readonly broker: RedisBroker;

  /** @param url - the Redis to use (default: the shared one) */
  constructor(readonly url = redisUrl) {
    this.broker = new RedisBroker({ url, namespace: this.namespace });
  }

  key(name: string): string {
    return `${this.namespace}:test:${name}`;
  }

  /** Enqueues `record(id, ms)` for each id, as a producer that does not declare the actor. */
  async sendRecords(ids: number[], ms = 0): Promise<void> {
    this.broker.declareQueue("cli_jobs");
    await this.broker.enqueueMany(
      ids.map((id) => new Message({ queueName: "cli_jobs", actorName: "record", args: [id, ms] })),
    );
  }

  async send(queueName: string, actorName: string, args: unknown[] = []): Promise<void> {
    this.broker.declareQueue(queueName);
    await this.broker.enqueue(new Message({ queueName, actorName, args }));
  }

  /** How many message ids the namespace's ack sets (`<ns>:__acks__.*`) hold. */
  async unacked(): Promise<number> {
    const keys = await this.broker.client.keys(`${this.namespace}:__acks__.*`);
    let total = 0;
    for (const key of keys) total += await this.broker.client.scard(key);
    return total;
  }

  async done(): Promise<number[]> {
    return (await this.broker.client.smembers(this.key("done"))).map(Number).sort((a, b) => a - b);
  }

  /** Waits until `test` holds, polling every 100 ms, or fails after `timeout` ms. */
  until(test: () => Promise<boolean>, what: string, timeout = 30_000): Promise<void> {
    return waitFor(test, what, timeout, 100);
  }

  /** Deletes every key of the namespace and closes the client. */
  async cleanUp(): Promise<void> {
    const keys = await this.broker.client.keys(`${this.namespace}:*`);
    if (keys.length) await this.broker.client.del(...keys);
    await this.broker.close();
  }
}
