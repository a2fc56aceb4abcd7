// The dq command with an isolated actor (`isolate: "thread"`): a `while (true)` loop runs in a
// worker thread that its time limit terminates, so the worker process is neither blocked nor
// replaced, and the other jobs go on.
import { afterEach, expect, it, jest } from "@jest/globals";
import { DqProcess, fixture, killAll } from "./helpers/dq-process.js";
import { describeWithRedis, redisUrl, TestRedis } from "./helpers/redis.js";

jest.setTimeout(120_000);

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
let redis: TestRedis | undefined;

afterEach(async () => {
  await killAll();
  await redis?.cleanUp();
  redis = undefined;
});

describeWithRedis("dq with an isolated actor", () => {
  it("terminates an isolated while(true) thread at its time limit; the process is not replaced", async () => {
    redis = new TestRedis();
    const dq = new DqProcess(
      [`${fixture("redis-jobs.ts")}:broker`, fixture("isolated-jobs.mjs"), "-p", "1", "-t", "4"],
      { env: { DQ_TEST_NAMESPACE: redis.namespace, REDIS_URL: redisUrl } },
    );
    await dq.waitFor(/All 1 worker process(es)? booted/);
    await redis.send("cli_isolated", "isolatedBlock");
    await dq.waitFor(/Terminating the thread of message .* \(isolatedBlock\): TimeLimitExceeded/);
    await redis.sendRecords(range(20));
    await redis.until(async () => (await redis!.done()).length === 20, "20 jobs done");
    await redis.until(
      async () => (await redis!.broker.getDeadLetters("cli_isolated")).length === 1,
      "the isolated message dead-lettered",
    );
    const pids = (await redis.broker.client.smembers(redis.key("pids"))).map(Number);
    expect(pids).toEqual(dq.bootedWorkers().map((worker) => worker.pid));
    expect(dq.output).toMatch(/TimeLimitExceeded/);
    expect(dq.output).not.toMatch(/event loop is blocked|killed for blocking/);
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
  });

  it("runs an isolated actor declared in a TypeScript module (tsx in the threads too)", async () => {
    redis = new TestRedis();
    const dq = new DqProcess(
      [
        `${fixture("redis-jobs.ts")}:broker`,
        fixture("isolated-typescript.ts"),
        "-p",
        "1",
        "-t",
        "2",
      ],
      { env: { DQ_TEST_NAMESPACE: redis.namespace, REDIS_URL: redisUrl } },
    );
    await dq.waitFor(/All 1 worker process(es)? booted/);
    await redis.send("cli_isolated_ts", "isolatedTyped", [7]);
    await dq.waitFor(/isolated TypeScript actor ran in thread [1-9]\d* with 7/);
    await redis.until(async () => (await redis!.unacked()) === 0, "the message acked");
    expect(await redis.broker.getDeadLetters("cli_isolated_ts")).toHaveLength(0);
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
  });
});
