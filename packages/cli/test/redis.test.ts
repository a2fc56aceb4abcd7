// The dq command on Redis, shared by every worker process: jobs spread over processes, nothing is
// lost on TERM, SIGKILL or a blocked event loop, HUP runs new code, and an unreachable broker
// exits 3. Completions are recorded in Redis (a set of job ids per test namespace).
import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterEach, expect, it, jest } from "@jest/globals";
import { DqProcess, fixture, killAll, packageDir, runDq } from "./helpers/dq-process.js";
import { describeWithRedis, redisUrl, TestRedis } from "./helpers/redis.js";

jest.setTimeout(120_000);

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
let redis: TestRedis | undefined;
let tmpDir: string | undefined;

afterEach(async () => {
  await killAll();
  await redis?.cleanUp();
  redis = undefined;
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = undefined;
});

function startDq(test: TestRedis, args: string[]): DqProcess {
  return new DqProcess([`${fixture("redis-jobs.ts")}:broker`, ...args], {
    env: { DQ_TEST_NAMESPACE: test.namespace, REDIS_URL: redisUrl },
  });
}

/** A port nothing listens on: bind one, then close it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describeWithRedis("dq on Redis", () => {
  it("processes jobs across processes with -p 2 -t 4", async () => {
    redis = new TestRedis();
    const dq = startDq(redis, ["-p", "2", "-t", "4"]);
    await dq.waitFor(/All 2 worker processes booted/);
    await redis.sendRecords(range(40), 50);
    await redis.until(async () => (await redis!.done()).length === 40, "40 jobs done");
    expect(await redis.done()).toEqual(range(40));
    const pids = (await redis.broker.client.smembers(redis.key("pids"))).map(Number).sort();
    expect(pids).toEqual(
      dq
        .bootedWorkers()
        .map((worker) => worker.pid)
        .sort(),
    );
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
  });

  it("loses no message when TERM arrives during a batch of slow jobs", async () => {
    redis = new TestRedis();
    const first = startDq(redis, ["-p", "2", "-t", "2", "--worker-shutdown-timeout", "200"]);
    await first.waitFor(/All 2 worker processes booted/);
    await redis.sendRecords(range(30), 400);
    await redis.until(async () => (await redis!.done()).length >= 2, "a few jobs done");
    first.kill("SIGTERM");
    expect((await first.exited).code).toBe(0);
    const afterFirst = (await redis.done()).length;
    expect(afterFirst).toBeLessThan(30);
    // Running jobs past the 200 ms timeout and every prefetched one went back to Redis.
    expect(first.output).toMatch(
      /Worker process \d stopped \(returned \d+ messages? to the broker\)/,
    );

    const second = startDq(redis, ["-p", "2", "-t", "4"]);
    await redis.until(
      async () => (await redis!.done()).length === 30,
      "all 30 jobs done after the second run",
    );
    expect(await redis.done()).toEqual(range(30));
    second.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);
  });

  it("restarts a worker killed with SIGKILL, and Redis redelivers its messages", async () => {
    redis = new TestRedis();
    const dq = startDq(redis, ["-p", "2", "-t", "2"]);
    await dq.waitFor(/All 2 worker processes booted/);
    await redis.sendRecords(range(24), 300);
    await redis.until(async () => (await redis!.done()).length >= 2, "a few jobs done");
    const [victim] = dq.bootedWorkers();
    process.kill(victim!.pid, "SIGKILL");
    await dq.waitFor(
      new RegExp(
        `Worker process ${victim!.index} \\(PID ${victim!.pid}\\) died with signal SIGKILL; restarting it`,
      ),
    );
    await dq.waitFor(() => dq.bootedWorkers().length === 3);
    await redis.until(async () => (await redis!.done()).length === 24, "all 24 jobs done");
    expect(await redis.done()).toEqual(range(24));
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
  });

  it("replaces a worker blocked by while(true) past its time limit; the other jobs go on", async () => {
    redis = new TestRedis();
    const dq = startDq(redis, ["-p", "2", "-t", "2", "--worker-shutdown-timeout", "1000"]);
    await dq.waitFor(/All 2 worker processes booted/);
    await redis.send("cli_block", "block");
    await dq.waitFor(/blocking in \d+/);
    await redis.sendRecords(range(20), 20);
    await dq.waitFor(
      /has not answered for \d+ ms, past the time limit of its running message by \d+ ms: its event loop is blocked\. Killing it/,
    );
    await dq.waitFor(/was killed for blocking its event loop past its time limit; restarting it/);
    await redis.until(async () => (await redis!.done()).length === 20, "the 20 other jobs done");
    expect(await redis.done()).toEqual(range(20));
    dq.kill("SIGTERM");
    // The block message comes back until it has killed 3 processes (then it is dead-lettered, see
    // poison.test.ts); a worker stuck in it is killed by the watchdog during the stop too.
    expect((await dq.exited).code).toBe(0);
  });

  it("runs the new code after HUP, without losing messages", async () => {
    redis = new TestRedis();
    mkdirSync(fixture(".tmp"), { recursive: true });
    tmpDir = mkdtempSync(path.join(fixture(".tmp"), "hup-"));
    const module = path.join(tmpDir, "versioned.ts");
    const write = (version: string) =>
      writeFileSync(
        module,
        `import { actor } from "@dq/core";\nimport { broker, testKey } from "../../redis-jobs.js";\n` +
          `export const versioned = actor(async function versioned(id: number) {\n` +
          `  await broker.client.sadd(testKey("versions"), \`\${id}:${version}\`);\n` +
          `}, { broker, queueName: "cli_versions" });\n`,
      );
    write("v1");
    const dq = startDq(redis, [module, "-p", "1"]);
    await dq.waitFor(/All 1 worker process booted/);
    await redis.send("cli_versions", "versioned", [1]);
    const versions = () => redis!.broker.client.smembers(redis!.key("versions"));
    await redis.until(async () => (await versions()).includes("1:v1"), "job 1 on v1");
    write("v2");
    dq.kill("SIGHUP");
    await dq.waitFor(/Reloading the worker processes \(SIGHUP\)/);
    // Sent while the old worker stops and the new one boots: waits in Redis.
    await redis.send("cli_versions", "versioned", [2]);
    await dq.waitFor(() => dq.bootedWorkers().length === 2);
    await redis.send("cli_versions", "versioned", [3]);
    try {
      await redis.until(async () => (await versions()).length === 3, "jobs 2 and 3");
    } catch (error) {
      throw new Error(
        `${(error as Error).message}; versions ${JSON.stringify(await versions())}; output:\n${dq.output}`,
      );
    }
    // Job 2 was sent during the reload: the old worker may still have taken it, or the new one.
    const done = (await versions()).sort();
    expect(done[0]).toBe("1:v1");
    expect(["2:v1", "2:v2"]).toContain(done[1]);
    expect(done[2]).toBe("3:v2");
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
  });

  it("exits 3 when DQ_BROKER_URL points at a closed port", async () => {
    const port = await closedPort();
    const result = await runDq([fixture("plain.mjs"), "-p", "1"], {
      env: { DQ_BROKER_URL: `redis://127.0.0.1:${port}` },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      new RegExp(`broker RedisBroker: connection refused by 127\\.0\\.0\\.1:${port}\\b`),
    );
    expect(result.stderr).toMatch(/failed to boot; stopping \(exit code 3\)/);
  });

  it("a producer uses DQ_BROKER_URL (with ?namespace=) through getBrokerAsync() without importing the adapter", async () => {
    redis = new TestRedis();
    tmpDir = mkdtempSync(path.join(packageDir, "test", ".producer-"));
    const core = pathToFileURL(path.join(packageDir, "..", "core", "dist", "index.js")).href;
    // Only @dq/core is imported; @dq/broker-redis is resolved from this package's dependencies.
    writeFileSync(
      path.join(tmpDir, "send.mjs"),
      `import { getBrokerAsync, Message } from ${JSON.stringify(core)};
const broker = await getBrokerAsync();
broker.declareQueue("producer_q");
await broker.enqueue(new Message({ queueName: "producer_q", actorName: "noop", args: [1] }));
console.log(broker.constructor.name, broker.namespace);
await broker.close();
`,
    );
    const url = new URL(redisUrl);
    url.searchParams.set("namespace", redis.namespace);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(tmpDir, "send.mjs")],
      { cwd: packageDir, env: { ...process.env, DQ_BROKER_URL: url.toString() } },
    );
    expect(stdout.trim()).toBe(`RedisBroker ${redis.namespace}`);
    expect(await redis.broker.client.llen(`${redis.namespace}:producer_q`)).toBe(1);
  });
});
