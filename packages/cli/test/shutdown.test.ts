// Shutdown with real processes on Redis (issue 17 items 1–3): workers drain and exit 0 when the
// supervisor is SIGKILLed, a TERM to the whole process group is one graceful stop, and a message
// that never finishes or an unreachable broker does not stretch shutdown past its timeout.
import { afterEach, expect, it, jest } from "@jest/globals";
import { DqProcess, fixture, killAll } from "./helpers/dq-process.js";
import { PrivateRedis } from "@dq/core/testing";
import { describeWithRedis, TestRedis } from "./helpers/redis.js";

jest.setTimeout(120_000);

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
let redis: TestRedis | undefined;
let privateRedis: PrivateRedis | undefined;

afterEach(async () => {
  await killAll();
  await redis?.cleanUp();
  redis = undefined;
  await privateRedis?.destroy();
  privateRedis = undefined;
});

function startDq(test: TestRedis, args: string[], detached = false): DqProcess {
  return new DqProcess([`${fixture("redis-jobs.ts")}:broker`, ...args], {
    env: { DQ_TEST_NAMESPACE: test.namespace, REDIS_URL: test.url },
    detached,
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Waits until none of `pids` runs, polling every 50 ms; fails after `timeout` ms. @returns the ms it took */
async function allGone(pids: number[], timeout: number): Promise<number> {
  const started = Date.now();
  while (pids.some(alive)) {
    if (Date.now() - started > timeout)
      throw new Error(`processes ${pids.filter(alive).join(", ")} still run after ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

/** Every message either processed (in the done set) or waiting on the queue again, and none unacked. */
async function expectAccounted(test: TestRedis, total: number): Promise<void> {
  const done = (await test.done()).length;
  const counts = await test.broker.getQueueMessageCounts("cli_jobs");
  expect(await test.unacked()).toBe(0);
  expect(counts.inFlight).toBe(0);
  expect(done + counts.ready).toBe(total);
}

describeWithRedis("dq shutdown on Redis", () => {
  it("SIGKILL of the supervisor: workers drain, log, and exit 0 within the shutdown timeout", async () => {
    redis = new TestRedis();
    const dq = startDq(redis, ["-p", "2", "-t", "8", "--worker-shutdown-timeout", "5000"]);
    await dq.waitFor(/All 2 worker processes booted/);
    const workers = dq.bootedWorkers().map((worker) => worker.pid);
    await redis.sendRecords(range(32), 1500);
    // Both processes hold their prefetch window (16 each): nothing waits on the queue.
    await redis.until(
      async () => (await redis!.broker.getQueueMessageCounts("cli_jobs")).ready === 0,
      "all 32 fetched",
    );
    await dq.waitFor(() => dq.count(/\[INFO\] Worker process \d booted/) === 2);
    process.kill(dq.child.pid!, "SIGKILL");
    const took = await allGone(workers, 5000 + 3000 + 5000);
    // The workers' logs still reach the command's stderr (they write to it directly).
    await dq.exited;
    for (const { index, pid } of dq.bootedWorkers()) {
      expect(dq.output).toMatch(
        new RegExp(
          `\\[PID ${pid}\\] \\[dq\\.WorkerProcess\\(${index}\\)\\] \\[INFO\\] Worker process ${index} is shutting down \\(the supervisor is gone\\)`,
        ),
      );
      expect(dq.output).toMatch(
        new RegExp(
          `\\[PID ${pid}\\] \\[dq\\.WorkerProcess\\(${index}\\)\\] \\[INFO\\] Worker process ${index} stopped`,
        ),
      );
    }
    expect(dq.output).not.toMatch(/crashed|EPIPE|failed to stop/);
    expect(took).toBeLessThan(5000 + 3000 + 5000);
    process.stdout.write(
      `supervisor SIGKILLed: workers gone ${took} ms later (shutdown timeout 5000 ms)\n`,
    );
    await expectAccounted(redis, 32);
    expect((await redis.done()).length).toBeGreaterThan(0);
  });

  it("TERM to the whole process group is one graceful stop: workers and dq exit 0", async () => {
    redis = new TestRedis();
    const dq = startDq(redis, ["-p", "2", "-t", "4", "--worker-shutdown-timeout", "5000"], true);
    await dq.waitFor(/All 2 worker processes booted/);
    const workers = dq.bootedWorkers().map((worker) => worker.pid);
    await redis.sendRecords(range(32), 400);
    await redis.until(async () => (await redis!.done()).length >= 4, "a few jobs done");
    process.kill(-dq.child.pid!, "SIGTERM");
    expect(await dq.exited).toEqual({ code: 0, signal: null });
    expect(workers.some(alive)).toBe(false);
    expect(dq.output).toContain("Received SIGTERM: stopping gracefully");
    expect(dq.output).not.toMatch(
      /second signal|killing the worker processes|exited with .* while stopping/,
    );
    expect(dq.count(/\[INFO\] Worker process \d stopped/)).toBe(2);
    await expectAccounted(redis, 32);
  });

  it("abandons a message that never finishes when the shutdown timeout ends: dq exits in ~2 s, the message back on its queue", async () => {
    redis = new TestRedis();
    const dq = startDq(redis, ["-p", "1", "--worker-shutdown-timeout", "2000"]);
    await dq.waitFor(/All 1 worker process booted/);
    await redis.send("cli_forever", "forever");
    await dq.waitFor(/forever started in/);
    const started = Date.now();
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    process.stdout.write(
      `never-ending message: dq exited ${Date.now() - started} ms after TERM (timeout 2000 ms)\n`,
    );
    expect(dq.output).toContain("Worker process 0 stopped (returned 1 message to the broker).");
    expect(await redis.broker.getQueueMessageCounts("cli_forever")).toEqual({
      ready: 1,
      inFlight: 0,
      delayed: 0,
      deadLettered: 0,
    });
    expect(await redis.unacked()).toBe(0);
  });

  it("an unreachable broker at TERM does not stretch shutdown past the timeout", async () => {
    privateRedis = await PrivateRedis.start();
    redis = new TestRedis(privateRedis.url);
    const dq = startDq(redis, ["-p", "1", "--worker-shutdown-timeout", "2000"]);
    await dq.waitFor(/All 1 worker process booted/);
    await redis.send("cli_forever", "forever");
    await dq.waitFor(/forever started in/);
    privateRedis.pause();
    const started = Date.now();
    dq.kill("SIGTERM");
    const { code } = await dq.exited;
    const took = Date.now() - started;
    // The 2000 ms timeout, then at most 3000 ms to return messages and close: exit 1, as the worker
    // could not return its message (Redis still holds it in the ack set, for recovery).
    expect(took).toBeLessThan(10_000);
    process.stdout.write(
      `broker paused at TERM: dq exited ${took} ms after TERM (timeout 2000 ms)\n`,
    );
    expect(code).toBe(1);
    expect(dq.output).toMatch(
      /could not return its messages and close the broker within 3000 ms after the 2000 ms shutdown timeout/,
    );
    privateRedis.resume();
    expect(await redis.unacked()).toBe(1);
  });
});
