// The supervisor with the in-memory broker (each worker process has its own): boot and shutdown
// logs, signals, restarts, the blocked-loop watchdog, forks, reloads and the log file.
import {
  appendFileSync,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, jest } from "@jest/globals";
import { DqProcess, fixture, killAll } from "./helpers/dq-process.js";

jest.setTimeout(90_000);
afterEach(killAll);

const tmp = () => mkdtempSync(path.join(tmpdir(), "dq-cli-"));

describe("dq supervisor", () => {
  it("boots the workers, runs jobs, loads TS/ESM/CJS modules and GenericActors, stops on TERM with exit 0", async () => {
    const dq = new DqProcess(
      [
        fixture("counter.ts"),
        fixture("generic.ts"),
        fixture("plain.mjs"),
        fixture("plain.cjs"),
        "-p",
        "2",
        "-t",
        "4",
      ],
      { env: { DQ_TEST_SELF_SEND: "3" } },
    );
    await dq.waitFor(/All 2 worker processes booted/);
    const workers = dq.bootedWorkers();
    expect(workers.map((worker) => worker.index).sort()).toEqual([0, 1]);
    expect(dq.output).toMatch(
      /Worker process 0 booted: StubBroker, concurrency 4, queues fixture_counts, fixture_greetings, fixture_esm, fixture_cjs, actors count, Greeter, ping, pong\./,
    );
    // Each worker runs the three jobs it sent itself.
    await dq.waitFor((output) =>
      workers.every(({ pid }) => [0, 1, 2].every((n) => output.includes(`counted ${n} in ${pid}`))),
    );
    dq.kill("SIGTERM");
    expect(await dq.exited).toEqual({ code: 0, signal: null });
    expect(dq.output).toContain("Received SIGTERM: stopping gracefully");
    expect(dq.count(/Worker process \d is shutting down/)).toBe(2);
    expect(dq.count(/Worker process \d stopped/)).toBe(2);
    expect(dq.output).toContain("All processes stopped.");
  });

  it("lets running messages finish on TERM, and kills with exit 1 on a second TERM", async () => {
    const finishing = new DqProcess([fixture("slow.ts"), "-p", "1"], {
      env: { DQ_TEST_SLOW_MS: "1500" },
    });
    await finishing.waitFor(/slow job started/);
    finishing.kill("SIGTERM");
    expect((await finishing.exited).code).toBe(0);
    expect(finishing.output).toMatch(/slow job finished[\s\S]*Worker process 0 stopped/);

    const killed = new DqProcess([fixture("slow.ts"), "-p", "1"], {
      env: { DQ_TEST_SLOW_MS: "60000" },
    });
    await killed.waitFor(/slow job started/);
    killed.kill("SIGTERM");
    await killed.waitFor(/Worker process 0 is shutting down/);
    killed.kill("SIGTERM");
    expect((await killed.exited).code).toBe(1);
    expect(killed.output).toContain("Received SIGTERM again: killing the worker processes");
    expect(killed.output).not.toContain("slow job finished");
  });

  it("returns running messages to the broker when the shutdown timeout passes", async () => {
    const dq = new DqProcess([fixture("slow.ts"), "-p", "1", "--worker-shutdown-timeout", "300"], {
      env: { DQ_TEST_SLOW_MS: "60000" },
    });
    await dq.waitFor(/slow job started/);
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
    expect(dq.output).toContain("Worker process 0 stopped (returned 1 message to the broker).");
  });

  it("restarts a worker killed with SIGKILL", async () => {
    const dq = new DqProcess([fixture("counter.ts"), "-p", "2"], {
      env: { DQ_TEST_SELF_SEND: "1" },
    });
    await dq.waitFor(/All 2 worker processes booted/);
    const [victim] = dq.bootedWorkers();
    process.kill(victim!.pid, "SIGKILL");
    await dq.waitFor(
      new RegExp(
        `Worker process ${victim!.index} \\(PID ${victim!.pid}\\) died with signal SIGKILL; restarting it in \\d+ ms`,
      ),
    );
    await dq.waitFor(() => dq.bootedWorkers().length === 3);
    const replacement = dq.bootedWorkers()[2]!;
    expect(replacement.index).toBe(victim!.index);
    expect(replacement.pid).not.toBe(victim!.pid);
    // The fresh process runs jobs again.
    await dq.waitFor(new RegExp(`counted 0 in ${replacement.pid}`));
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
  });

  it("kills and replaces a worker whose event loop is blocked past its message's time limit", async () => {
    const dir = tmp();
    const dq = new DqProcess([fixture("blocker.ts"), "-p", "1"], {
      env: { DQ_TEST_BLOCK_MARKER: path.join(dir, "blocked") },
    });
    await dq.waitFor(/blocking in (\d+)/);
    const blocked = Number(/blocking in (\d+)/.exec(dq.output)![1]);
    const started = Date.now();
    await dq.waitFor(/its event loop is blocked\. Killing it/);
    // Time limit 1000 ms plus the 2000 ms margin, measured from when the message started.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    await dq.waitFor(
      new RegExp(
        `Worker process 0 \\(PID ${blocked}\\) was killed for blocking its event loop past its time limit; restarting it`,
      ),
    );
    await dq.waitFor(() => dq.bootedWorkers().length === 2);
    const replacement = dq.bootedWorkers()[1]!.pid;
    expect(replacement).not.toBe(blocked);
    await dq.waitFor(new RegExp(`tick 2 in ${replacement}`));
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs the middleware's forks once, restarts a dead fork and stops it on shutdown", async () => {
    const dq = new DqProcess([fixture("forks.mjs"), "-p", "2"]);
    await dq.waitFor(/fork serving in (\d+)/);
    expect(dq.output).toMatch(
      /All 2 worker processes booted[\s\S]*Starting fork process 0: serve from file:.*fork-target\.mjs/,
    );
    const first = Number(/fork serving in (\d+)/.exec(dq.output)![1]);
    process.kill(first, "SIGKILL");
    await dq.waitFor(/Fork process 0 \(PID \d+\) died with signal SIGKILL; restarting it/);
    await dq.waitFor(() => dq.count(/fork serving in \d+/) === 2);
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
    expect(dq.count(/Starting fork process/)).toBe(1);
    expect(dq.output).toContain("Fork process 0 stopped.");
  });

  it("reloads changed code on HUP and with --watch", async () => {
    const dir = tmp();
    const module = path.join(dir, "versioned.mjs");
    copyFileSync(fixture("plain.mjs"), path.join(dir, "plain.mjs"));
    const write = (version: number) =>
      writeFileSync(
        module,
        `process.stdout.write("code version ${version} in " + process.pid + "\\n");\nexport {};\n`,
      );
    write(1);
    const dq = new DqProcess([module, "-p", "1", "--watch", dir]);
    await dq.waitFor(/code version 1 in/);
    await dq.waitFor(/Watching .* for changes\./);
    write(2);
    await dq.waitFor(/code version 2 in/);
    expect(dq.output).toContain("Reloading the worker processes (file change).");
    write(3);
    dq.kill("SIGHUP");
    await dq.waitFor(/code version 3 in/);
    expect(dq.output).toContain("Reloading the worker processes (SIGHUP).");
    await dq.waitFor(() => dq.bootedWorkers().length >= 3);
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it("appends every process's logs to --log-file instead of stderr", async () => {
    const dir = tmp();
    const logFile = path.join(dir, "dq.log");
    appendFileSync(logFile, "earlier line\n");
    const dq = new DqProcess([fixture("counter.ts"), "-p", "1", "--log-file", logFile], {
      env: { DQ_TEST_SELF_SEND: "1" },
    });
    await dq.waitFor(/counted 0 in/);
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
    const log = readFileSync(logFile, "utf8");
    expect(log.startsWith("earlier line\n")).toBe(true);
    expect(log).toMatch(/\[dq\.MainProcess\] \[INFO\] dq .*counter\.ts: starting 1 worker process/);
    expect(log).toMatch(/\[dq\.WorkerProcess\(0\)\] \[INFO\] Worker process 0 booted/);
    expect(log).toMatch(/\[dq\.WorkerProcess\(0\)\] \[INFO\] Worker process 0 stopped/);
    expect(dq.stderr).toBe("");
    // Actor output (stdout) still goes to stdout.
    expect(dq.stdout).toContain("counted 0 in");
    rmSync(dir, { recursive: true, force: true });
  });

  it("logs a failing message with its actor, message id and stack", async () => {
    const dq = new DqProcess([fixture("failing.ts"), "-p", "1"]);
    await dq.waitFor(/sent ([0-9a-f-]{36})/);
    const messageId = /sent ([0-9a-f-]{36})/.exec(dq.output)![1]!;
    await dq.waitFor(
      new RegExp(
        `\\[ERROR\\] Failed to process message ${messageId} \\(explode\\) with an unhandled exception\\.\\nError: boom from the fixture\\n\\s+at explode`,
      ),
    );
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
  });

  it("logs at debug level with --verbose", async () => {
    const dq = new DqProcess([fixture("plain.mjs"), "-p", "1", "-v"]);
    await dq.waitFor(/\[DEBUG\] Worker started with concurrency 8/);
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
  });
});
