import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, expect, it } from "@jest/globals";
import { AMQP_URL, deleteQueues, describeRabbit, readyCount, uniqueName } from "./helpers.js";

const run = promisify(execFile);
const script = path.join(__dirname, "fixtures", "send-and-exit.mjs");
const cleanups: (() => Promise<unknown>)[] = [];

/** Runs the producer child to its `process.exit(0)`. */
async function produce(queueName: string, mode: "send", count: number, confirm = false): Promise<void> {
  const { stdout } = await run(process.execPath, [script, AMQP_URL, queueName, mode, String(count), ...(confirm ? ["confirm"] : [])], { timeout: 60_000 });
  expect(stdout).toBe("sent\n");
}

describeRabbit("RabbitmqBroker: an awaited send is on the server", () => {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  });

  it("keeps 1000 awaited sends (no confirms) of a process that exits right after", async () => {
    const queueName = uniqueName("dqexit");
    cleanups.push(() => deleteQueues([queueName]));
    await produce(queueName, "send", 1000);
    expect(await readyCount(queueName)).toBe(1000);
  }, 90_000);

  it("keeps 1000 awaited sends with confirms of a process that exits right after", async () => {
    const queueName = uniqueName("dqexitconfirm");
    cleanups.push(() => deleteQueues([queueName]));
    await produce(queueName, "send", 1000, true);
    expect(await readyCount(queueName)).toBe(1000);
  }, 90_000);
});
