// The dq command's arguments, module loading and exit codes 0, 2 and 4, against the built bin.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, jest } from "@jest/globals";
import { DqProcess, fixture, killAll, runDq } from "./helpers/dq-process.js";

jest.setTimeout(60_000);
afterEach(killAll);

const tmp = () => mkdtempSync(path.join(tmpdir(), "dq-cli-"));

describe("dq arguments", () => {
  it("prints usage with --help and the version with --version", async () => {
    const help = await runDq(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: dq <module>");
    expect(help.stdout).toContain("--worker-shutdown-timeout");
    const version = await runDq(["--version"]);
    expect(version.code).toBe(0);
    const pkg = JSON.parse(readFileSync(path.join(__dirname, "..", "package.json"), "utf8"));
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  it.each([
    [["--bogus", fixture("plain.mjs")], /unknown option '--bogus'/],
    [
      ["--thread", "4", fixture("plain.mjs")],
      /unknown option '--thread'; did you mean --threads\?/,
    ],
    [["-p", "zero", fixture("plain.mjs")], /--processes expects a whole number \(got "zero"\)/],
    [["-p", "0", fixture("plain.mjs")], /--processes must be between 1 and 1024 \(got "0"\)/],
    [["-t", "-3", fixture("plain.mjs")], /option '-t' expects a value/],
    [["--threads=-3", fixture("plain.mjs")], /--threads expects a whole number \(got "-3"\)/],
    [
      ["-t", "2", "--concurrency", "3", fixture("plain.mjs")],
      /--threads 2 and --concurrency 3 disagree/,
    ],
    [["--pid-file", fixture("plain.mjs")], /expected at least one module/],
    [
      ["--worker-shutdown-timeout", "soon", fixture("plain.mjs")],
      /--worker-shutdown-timeout expects a whole number \(got "soon"\)/,
    ],
    [[fixture("plain.mjs"), "-Q", "bad queue!"], /--queues: invalid queue name "bad queue!"/],
    [[], /expected at least one module/],
  ])("exits 2 naming the problem for %j", async (args, message) => {
    const result = await runDq(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain("dq --help");
  });

  it("exits 2 with DQ_BROKER_URL's advice when nothing configures a broker, unless --in-memory", async () => {
    const result = await runDq([fixture("plain.mjs"), "-p", "1"], { inMemory: false });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no broker configured: DQ_BROKER_URL is not set.*--in-memory/);
    expect(result.stderr).toMatch(/failed to boot; stopping \(exit code 2\)/);
    // A module naming its broker needs neither.
    const named = new DqProcess(
      [`${fixture("brokers.mjs")}:broker`, fixture("plain.mjs"), "-p", "1"],
      { inMemory: false },
    );
    await named.waitFor(/booted/);
    named.kill("SIGTERM");
    expect((await named.exited).code).toBe(0);
  });

  it("exits 2 naming a misspelt DQ_BROKER_URL scheme and listing the known ones", async () => {
    const result = await runDq([fixture("plain.mjs"), "-p", "1"], {
      env: { DQ_BROKER_URL: "reddis://:pw@127.0.0.1:6379" },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'unknown broker URL scheme "reddis" in "reddis://:***@127.0.0.1:6379"; known schemes: amqp, amqps, redis, rediss',
    );
    expect(result.stderr).not.toContain(":pw@");
    expect(result.stderr).not.toMatch(/could not load the modules/);
  });

  it("warns when -Q names a queue that no loaded actor uses", async () => {
    const dq = new DqProcess([fixture("plain.mjs"), "-p", "1", "-Q", "fixture_esm", "nope"]);
    await dq.waitFor(/booted/);
    await dq.waitFor(/no loaded actor uses/);
    expect(dq.stderr).toContain('-Q names a queue that no loaded actor uses: "nope"');
    expect(dq.stderr).toContain("Declared queues: fixture_esm");
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
  });

  it("says what a slow boot is doing", async () => {
    const dq = new DqProcess([fixture("slow-import.mjs"), "-p", "1"]);
    await dq.waitFor(
      /Worker process 0 still booting after 5 s: importing .*slow-import\.mjs\.\.\./,
    );
    await dq.waitFor(/Worker process 0 booted/);
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
  });

  it("exits 2 when a module does not exist", async () => {
    const result = await runDq(["test/fixtures/no-such-module.ts", "-p", "1"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /dq: error: module not found: "test\/fixtures\/no-such-module.ts"/,
    );
  });

  it("exits 2 when a module fails to import", async () => {
    const result = await runDq([fixture("throws.mjs"), "-p", "1"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("fixture module exploded at import");
    expect(result.stderr).toMatch(/Worker process 0 .*failed to boot; stopping \(exit code 2\)/);
  });

  it("exits 2 when module:name is not a Broker", async () => {
    const result = await runDq([`${fixture("brokers.mjs")}:notABroker`, "-p", "1"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/export "notABroker" is not a Broker \(found a Object\)/);
    const missing = await runDq([`${fixture("brokers.mjs")}:nothingHere`, "-p", "1"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/export "nothingHere" is not a Broker \(found nothing\)/);
  });

  it("resolves modules against --path, without an extension", async () => {
    const dq = new DqProcess(["plain", "-P", fixture("."), "-p", "1"]);
    await dq.waitFor(/Worker process 0 booted: .*actors ping/);
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
  });
});

describe("dq pid file", () => {
  it("exits 4 when the pid file is held by a live process", async () => {
    const dir = tmp();
    const pidFile = path.join(dir, "dq.pid");
    writeFileSync(pidFile, `${process.pid}\n`);
    const result = await runDq([fixture("plain.mjs"), "-p", "1", "--pid-file", pidFile]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`is held by running process ${process.pid}`);
    expect(readFileSync(pidFile, "utf8").trim()).toBe(String(process.pid));
    rmSync(dir, { recursive: true, force: true });
  });

  it("exits 4 when the pid file holds garbage", async () => {
    const dir = tmp();
    const pidFile = path.join(dir, "dq.pid");
    writeFileSync(pidFile, "not a pid");
    const result = await runDq([fixture("plain.mjs"), "-p", "1", "--pid-file", pidFile]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("does not hold a pid");
    rmSync(dir, { recursive: true, force: true });
  });

  it("replaces a stale pid file, writes its own pid and removes it at exit", async () => {
    const dir = tmp();
    const pidFile = path.join(dir, "dq.pid");
    // A pid that is not running: a finished child's.
    const finished = await runDq(["--version"]);
    expect(finished.code).toBe(0);
    writeFileSync(pidFile, "999999\n");
    const dq = new DqProcess([fixture("plain.mjs"), "-p", "1", "--pid-file", pidFile]);
    await dq.waitFor(/All 1 worker process booted/);
    expect(readFileSync(pidFile, "utf8").trim()).toBe(String(dq.child.pid));
    dq.kill("SIGTERM");
    expect((await dq.exited).code).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
