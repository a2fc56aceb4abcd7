import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { actor, InvalidOptionError } from "@dq/core";
import { PrivateRedisCluster } from "@dq/core/testing";
import { ShardedRedisBroker } from "../src/index.js";
import { describeWithRedis, uniqueNamespace, waitFor } from "./helpers.js";

// Issue 24: the sharded mode drains 20,000 messages over three shards of a private three-master
// Redis Cluster while one of two worker processes is SIGKILLed mid-run: nothing is lost (the
// killed worker's held messages come back through heartbeat-based recovery), duplicates counted.
describeWithRedis("ShardedRedisBroker on a Redis Cluster", () => {
  let cluster: PrivateRedisCluster | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), "dq-sharded-"));
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    cluster = await PrivateRedisCluster.start(3);
  }, 90_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a bad shard count or a braced namespace, naming the value", () => {
    const nodes = [{ host: "127.0.0.1", port: 1 }];
    expect(() => new ShardedRedisBroker({ cluster: nodes, shards: 0 })).toThrow(InvalidOptionError);
    expect(() => new ShardedRedisBroker({ cluster: nodes, shards: 1.5 })).toThrow(
      "invalid shards 1.5: expected a whole number >= 1",
    );
    expect(() => new ShardedRedisBroker({ cluster: nodes, shards: 2, namespace: "{x}" })).toThrow(
      'invalid namespace "{x}"',
    );
  });

  it("spreads over the shards and loses nothing when a worker is SIGKILLed mid-run", async () => {
    const namespace = uniqueNamespace();
    const queueName = "sharded";
    const total = 20_000;
    const startWorker = (label: string) => {
      const ledger = path.join(dir, `${label}.ledger`);
      const child = spawn(
        process.execPath,
        [path.join(__dirname, "processes/sharded-worker.mjs")],
        {
          env: {
            ...process.env,
            DQ_TEST_NODES: JSON.stringify(cluster!.startupNodes),
            DQ_TEST_NAMESPACE: namespace,
            DQ_TEST_QUEUE: queueName,
            DQ_TEST_LEDGER: ledger,
          },
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      children.push(child);
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => chunk.includes("ready") && resolve());
        child.once("exit", (code) => reject(new Error(`worker ${label} exited with ${code}`)));
      });
      return { child, ledger, ready };
    };
    const readLedger = (file: string) =>
      existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number) : [];

    const producer = new ShardedRedisBroker({
      cluster: cluster!.startupNodes,
      namespace,
      shards: 3,
    });
    const work = actor(function shardedWork(_n: number) {}, { broker: producer, queueName });
    const first = startWorker("first");
    const second = startWorker("second");
    try {
      await Promise.all([first.ready, second.ready]);
      for (let start = 0; start < total; start += 1000)
        await producer.enqueueMany(Array.from({ length: 1000 }, (_, i) => work.message(start + i)));
      // Every shard got a third of the messages (in turn).
      const counts = await Promise.all(
        producer.shards.map((shard) => shard.getQueueMessageCounts(queueName)),
      );
      for (const count of counts)
        expect(count.ready + count.inFlight).toBeLessThanOrEqual(Math.ceil(total / 3));
      await waitFor(
        () => readLedger(first.ledger).length >= 3000,
        "the first worker to run 3000",
        60_000,
      );
      first.child.kill("SIGKILL");
      const all = () => new Set([...readLedger(first.ledger), ...readLedger(second.ledger)]);
      await waitFor(() => all().size === total, `all ${total} messages processed`, 120_000);
      const runs = readLedger(first.ledger).length + readLedger(second.ledger).length;
      process.stderr.write(
        `sharded: ${total} sent over 3 shards, ${all().size} processed, ${runs - total} duplicate runs (first worker killed after ${readLedger(first.ledger).length})\n`,
      );
      await producer.join(queueName, { timeout: 30_000 });
    } finally {
      second.child.kill("SIGTERM");
      await new Promise((resolve) => second.child.once("exit", resolve));
      await producer.close();
    }
  }, 240_000);
});
