import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { addressFromUrl, describeWithServer, uniqueQueueName } from "@dq/core/testing";
import { connect } from "amqplib";
import { deadLetterQueueName, delayQueueName } from "@dq/core/adapter";

/** The test server; loopback by default. */
export const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

/** `describe` when RabbitMQ answers; otherwise a skipped block with the notice, or a failing one under CI. */
export function describeRabbit(name: string, body: () => void): void {
  describeWithServer(name, addressFromUrl(AMQP_URL, 5672), body);
}

/** A name unique to this run. */
export function uniqueName(prefix = "dqrmq"): string {
  return uniqueQueueName(prefix);
}

/** Deletes `q`, `q.DQ` and `q.XQ` of each canonical queue with amqplib directly. */
export async function deleteQueues(queueNames: Iterable<string>): Promise<void> {
  const connection = await connect(AMQP_URL);
  try {
    for (const name of queueNames) {
      for (const queue of [name, delayQueueName(name), deadLetterQueueName(name)]) {
        const channel = await connection.createChannel();
        channel.on("error", () => undefined);
        await channel.deleteQueue(queue).catch(() => undefined);
        await channel.close().catch(() => undefined);
      }
    }
  } finally {
    await connection.close();
  }
}

/** How many messages are ready on a queue, asked of the server with amqplib directly. */
export async function readyCount(queueName: string): Promise<number> {
  const connection = await connect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queueName)).messageCount;
  } finally {
    await connection.close();
  }
}

const run = promisify(execFile);

function rabbitmqctl(args: string[]): string {
  return execFileSync("rabbitmqctl", [...args, "--formatter", "json", "--quiet"], {
    encoding: "utf8",
    timeout: 30_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Closes the server side of every connection whose `connection_name` starts with `prefix`. */
export async function closeConnectionsNamed(prefix: string): Promise<number> {
  const json = await run(
    "rabbitmqctl",
    ["list_connections", "name", "client_properties", "--formatter", "json", "--quiet"],
    { timeout: 30_000 },
  );
  const rows = JSON.parse(json.stdout) as {
    name: string;
    client_properties: [string, string, unknown][];
  }[];
  // close_connection takes the Erlang pid, which only the text output prints usably.
  const text = await run(
    "rabbitmqctl",
    ["list_connections", "name", "pid", "--quiet", "--no-table-headers"],
    { timeout: 30_000 },
  );
  const pids = new Map(
    text.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [name, pid] = line.split("\t");
        return [name, pid] as const;
      }),
  );
  let closed = 0;
  for (const row of rows) {
    const label = row.client_properties.find(([key]) => key === "connection_name")?.[2];
    const pid = pids.get(row.name);
    if (typeof label === "string" && label.startsWith(prefix) && pid) {
      await run("rabbitmqctl", ["close_connection", pid, "dq test closes this connection"], {
        timeout: 30_000,
      });
      closed++;
    }
  }
  return closed;
}

/** One queue as `rabbitmqctl list_queues name durable arguments` reports it. */
export interface ListedQueue {
  name: string;
  durable: boolean;
  arguments: [string, string, unknown][];
}

/** The listed queues among `names`. */
export function listQueues(names: readonly string[]): ListedQueue[] {
  const rows = JSON.parse(
    rabbitmqctl(["list_queues", "name", "durable", "arguments"]),
  ) as ListedQueue[];
  return rows.filter((row) => names.includes(row.name));
}
