// Poison messages (issue 16 item 4): a `while (true)` actor with a time limit kills its worker
// process; the supervisor counts the kills per message id, a suspect runs alone and, at the
// bound (--max-kills, 3), the message is dead-lettered. Neighbours are processed, few duplicates.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, expect, it, jest } from "@jest/globals";
import { RabbitmqBroker } from "@dq/broker-rabbitmq";
import { Message } from "@dq/core";
import { addressFromUrl, describeWithServer, waitFor } from "@dq/core/testing";
import { DqProcess, fixture, killAll } from "./helpers/dq-process.js";
import { describeWithRedis, TestRedis } from "./helpers/redis.js";

jest.setTimeout(180_000);

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
// Short heartbeats and margins: the blocked worker is killed ~1.5 s after its message started.
const TIMINGS = JSON.stringify({
  heartbeatInterval: 200,
  blockedMargin: 500,
  restartDelay: 100,
  maxRestartDelay: 400,
});
const amqpUrl = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

let redis: TestRedis | undefined;
let rabbit: { broker: RabbitmqBroker; queues: string[]; dir: string } | undefined;

afterEach(async () => {
  await killAll();
  await redis?.cleanUp();
  redis = undefined;
  if (rabbit) {
    await deleteRabbitQueues(rabbit.queues);
    await rabbit.broker.close();
    rmSync(rabbit.dir, { recursive: true, force: true });
    rabbit = undefined;
  }
});

/** Deletes the queues (and their .DQ/.XQ) with amqplib, the client of @dq/broker-rabbitmq. */
async function deleteRabbitQueues(names: string[]): Promise<void> {
  const requireFromAdapter = createRequire(
    createRequire(__filename).resolve("@dq/broker-rabbitmq"),
  );
  interface Channel {
    on(event: "error", listener: () => void): void;
    deleteQueue(name: string): Promise<unknown>;
    close(): Promise<void>;
  }
  const amqplib = requireFromAdapter("amqplib") as {
    connect(url: string): Promise<{ createChannel(): Promise<Channel>; close(): Promise<void> }>;
  };
  const connection = await amqplib.connect(amqpUrl);
  try {
    for (const name of names.flatMap((queue) => [queue, `${queue}.DQ`, `${queue}.XQ`])) {
      const channel = await connection.createChannel();
      channel.on("error", () => undefined);
      await channel.deleteQueue(name).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
  } finally {
    await connection.close();
  }
}

/** Waits until `test` holds, polling every 200 ms, or fails after `timeout` ms. */
function until(
  test: () => Promise<boolean> | boolean,
  what: string,
  timeout = 90_000,
): Promise<void> {
  return waitFor(test, what, timeout, 200);
}

/** What the poison run showed: kills, the dead-lettering line, and the neighbours' runs. */
function expectPoisonHandled(dq: DqProcess, poisonId: string): void {
  // Killed exactly --max-kills times, then dead-lettered instead of run.
  expect(dq.count(/was killed for blocking its event loop past its time limit/)).toBe(3);
  expect(dq.output).toContain(`counting it against message ${poisonId} (3 of 3)`);
  expect(dq.output).toMatch(
    new RegExp(
      `\\[ERROR\\] Dead-lettering message ${poisonId} \\(block\\): PoisonMessage: its processing killed its worker process 3 times \\(bound 3\\)\\.`,
    ),
  );
  // After the first kill it ran alone (a suspect).
  expect(dq.output).toMatch(
    new RegExp(`Message ${poisonId} \\(block\\) killed a worker process 1 time: running it alone`),
  );
}

describeWithRedis("poison messages on Redis", () => {
  it("dead-letters a while(true) message after 3 kills; its 20 neighbours are processed", async () => {
    redis = new TestRedis();
    const dq = new DqProcess([`${fixture("redis-jobs.ts")}:broker`, "-p", "1", "-t", "4"], {
      env: { DQ_TEST_NAMESPACE: redis.namespace, DQ_SUPERVISOR_TIMINGS: TIMINGS },
    });
    await dq.waitFor(/All 1 worker process booted/);
    const poison = new Message({ queueName: "cli_block", actorName: "block", args: [] });
    redis.broker.declareQueue("cli_block");
    await redis.sendRecords(range(10), 50);
    await redis.broker.enqueue(poison);
    await redis.sendRecords(range(20).slice(10), 50);
    await redis.until(
      async () => (await redis!.broker.getQueueMessageCounts("cli_block")).deadLettered === 1,
      "the poison dead-lettered",
      90_000,
    );
    await redis.until(async () => (await redis!.done()).length === 20, "the 20 neighbours done");
    expect(await redis.done()).toEqual(range(20));
    expectPoisonHandled(dq, poison.messageId);
    const [letter] = await redis.broker.getDeadLetters("cli_block");
    expect(letter?.message?.messageId).toBe(poison.messageId);
    const runs = Number(await redis.broker.client.get(redis.key("runs")));
    process.stdout.write(
      `poison on Redis: neighbours ran ${runs} times for 20 messages (${runs - 20} duplicates)\n`,
    );
    expect(runs - 20).toBeLessThanOrEqual(4);
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
  });
});

describeWithRedis("processes replaced under a message on Redis", () => {
  it("counts a crash against every running message: a message that crashes its process is dead-lettered after 3", async () => {
    redis = new TestRedis();
    const dq = new DqProcess([`${fixture("redis-jobs.ts")}:broker`, "-p", "1", "-t", "2"], {
      env: { DQ_TEST_NAMESPACE: redis.namespace, DQ_SUPERVISOR_TIMINGS: TIMINGS },
    });
    await dq.waitFor(/All 1 worker process booted/);
    const crash = new Message({ queueName: "cli_crash", actorName: "crash", args: [] });
    redis.broker.declareQueue("cli_crash");
    await redis.broker.enqueue(crash);
    await redis.until(
      async () => (await redis!.broker.getQueueMessageCounts("cli_crash")).deadLettered === 1,
      "the crashing message dead-lettered",
      90_000,
    );
    expect(dq.count(/died with signal SIGKILL; restarting it/)).toBe(3);
    expect(dq.output).toContain(
      `died with signal SIGKILL: counting it against message ${crash.messageId} (3 of 3)`,
    );
    expect(dq.output).toMatch(
      new RegExp(`Dead-lettering message ${crash.messageId} \\(crash\\): PoisonMessage`),
    );
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
  });

  // Relies on core keeping a timed-out invocation that ignores its AbortSignal running (its
  // afterProcessMessage fires only when it settles), so the heartbeat shows it past its deadline.
  it("recycles a process whose timed-out async invocation never settles, returning the message; dead-letters it after 3", async () => {
    redis = new TestRedis();
    const dq = new DqProcess(
      [
        `${fixture("redis-jobs.ts")}:broker`,
        "-p",
        "1",
        "-t",
        "2",
        "--worker-shutdown-timeout",
        "5000",
      ],
      {
        env: {
          DQ_TEST_NAMESPACE: redis.namespace,
          DQ_SUPERVISOR_TIMINGS: JSON.stringify({
            heartbeatInterval: 200,
            stuckGrace: 1000,
            restartDelay: 100,
          }),
        },
      },
    );
    await dq.waitFor(/All 1 worker process booted/);
    const stuck = new Message({ queueName: "cli_stuck", actorName: "stuck", args: [] });
    redis.broker.declareQueue("cli_stuck");
    await redis.broker.enqueue(stuck);
    await dq.waitFor(
      new RegExp(
        `still runs message ${stuck.messageId} more than 1000 ms past its time limit: recycling the process`,
      ),
      15_000,
    );
    await dq.waitFor(
      /Worker process 0 \(PID \d+\) recycled \(exited with code 0\); starting its replacement\./,
    );
    expect(dq.output).toMatch(/Worker process 0 stopped \(returned 1 message to the broker\)/);
    await redis.until(
      async () => (await redis!.broker.getQueueMessageCounts("cli_stuck")).deadLettered === 1,
      "the stuck message dead-lettered",
      90_000,
    );
    expect(dq.count(/recycling the process/)).toBe(3);
    expect(dq.output).toMatch(
      new RegExp(
        `Dead-lettering message ${stuck.messageId} \\(stuck\\): PoisonMessage: its processing killed its worker process 3 times`,
      ),
    );
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
  });
});

describeWithServer("poison messages on RabbitMQ", addressFromUrl(amqpUrl, 5672), () => {
  it("dead-letters a while(true) message after 3 kills; its 20 neighbours are processed", async () => {
    const namespace = `dq_cli_poison_${randomBytes(4).toString("hex")}`;
    const dir = mkdtempSync(path.join(tmpdir(), "dq-cli-poison-"));
    const recordFile = path.join(dir, "runs.txt");
    rabbit = {
      broker: new RabbitmqBroker({ url: amqpUrl }),
      queues: [`${namespace}_jobs`, `${namespace}_block`],
      dir,
    };
    const dq = new DqProcess([`${fixture("rabbit-jobs.ts")}:broker`, "-p", "2", "-t", "4"], {
      env: {
        DQ_TEST_NAMESPACE: namespace,
        DQ_TEST_RECORD_FILE: recordFile,
        AMQP_URL: amqpUrl,
        DQ_SUPERVISOR_TIMINGS: TIMINGS,
      },
    });
    await dq.waitFor(/All 2 worker processes booted/);
    const { broker, queues } = rabbit;
    for (const queue of queues) broker.declareQueue(queue);
    const poison = new Message({ queueName: queues[1]!, actorName: "block", args: [] });
    const records = (ids: number[]) =>
      ids.map((id) => new Message({ queueName: queues[0]!, actorName: "record", args: [id, 50] }));
    await broker.enqueueMany(records(range(10)));
    await broker.enqueue(poison);
    await broker.enqueueMany(records(range(20).slice(10)));
    const runs = () =>
      existsSync(recordFile)
        ? readFileSync(recordFile, "utf8")
            .trim()
            .split("\n")
            .filter(Boolean)
            .map((line) => Number(line.split(" ")[0]))
        : [];
    await until(
      async () => (await broker.getQueueMessageCounts(queues[1]!)).dead === 1,
      "the poison dead-lettered",
    );
    await until(() => new Set(runs()).size === 20, "the 20 neighbours done");
    expect([...new Set(runs())].sort((a, b) => a - b)).toEqual(range(20));
    expectPoisonHandled(dq, poison.messageId);
    const [letter] = await broker.getDeadLetters(queues[1]!);
    expect(letter?.message?.messageId).toBe(poison.messageId);
    process.stdout.write(
      `poison on RabbitMQ: neighbours ran ${runs().length} times for 20 messages (${runs().length - 20} duplicates)\n`,
    );
    expect(runs().length - 20).toBeLessThanOrEqual(8);
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
  });
});
