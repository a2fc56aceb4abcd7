import amqp from "amqplib";
import type { Scope } from "./systems/system.js";

/** RabbitMQ has no key prefix: each scope gets its own queue (and, for dq, `.DQ` and `.XQ`). */
export function queueOf(scope: Scope): string {
  return scope.prefix.replace(/[^a-zA-Z0-9_]/g, "_");
}

/** Deletes the named queues (a missing queue is no error). */
export async function deleteQueues(url: string, names: readonly string[]): Promise<void> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    for (const name of names) await channel.deleteQueue(name);
    await channel.close();
  } finally {
    await connection.close();
  }
}

/** Whether RabbitMQ accepts a connection. */
export async function rabbitmqReachable(url: string): Promise<boolean> {
  try {
    const connection = await amqp.connect(url, { timeout: 3000 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}
