import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, expect, it } from "@jest/globals";
import { AMQP_URL, deleteQueues, describeRabbit, readyCount, uniqueName } from "./helpers.js";

const run = promisify(execFile);
const script = path.join(__dirname, "fixtures", "send-and-exit.mjs");
const cleanups: (() => Promise<unknown>)[] = [];

/** Runs the producer child to its `process.exit(0)`. */
async function produce(
  queueName: string,
  mode: "send" | "send-close",
  count: number,
  confirm: "confirm" | "no-confirm" | "default",
): Promise<void> {
  const { stdout } = await run(
    process.execPath,
    [script, AMQP_URL, queueName, mode, String(count), confirm],
    { timeout: 60_000 },
  );
  expect(stdout).toBe("sent\n");
}

describeRabbit("RabbitmqBroker: an awaited send is on the server", () => {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  });

  // Without confirms an awaited send means "written to the socket" (publishing.test.ts checks that
  // nothing is left in amqplib or the socket when it resolves); whether bytes still in the kernel
  // reach RabbitMQ after an abrupt exit depends on timing (the kernel may reset the connection), so
  // the exit case is asserted with the defaults (confirms) and, unconfirmed, after `close()`.
  it("keeps 1000 awaited sends with the broker's defaults of a process that exits right after", async () => {
    const queueName = uniqueName("dqexit");
    cleanups.push(() => deleteQueues([queueName]));
    await produce(queueName, "send", 1000, "default");
    expect(await readyCount(queueName)).toBe(1000);
  }, 90_000);

  it("keeps 1000 unconfirmed awaited sends of a process that closes its broker, then exits", async () => {
    const queueName = uniqueName("dqexitclose");
    cleanups.push(() => deleteQueues([queueName]));
    await produce(queueName, "send-close", 1000, "no-confirm");
    expect(await readyCount(queueName)).toBe(1000);
  }, 90_000);

  it("keeps 1000 awaited sends with confirms of a process that exits right after", async () => {
    const queueName = uniqueName("dqexitconfirm");
    cleanups.push(() => deleteQueues([queueName]));
    await produce(queueName, "send", 1000, "confirm");
    expect(await readyCount(queueName)).toBe(1000);
  }, 90_000);
});
