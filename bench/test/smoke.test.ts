import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";

// The harness forks worker children from its compiled JavaScript, so the smoke test runs the
// built CLI (turbo builds it before `test`), exactly as `pnpm bench --smoke` does.
const MAIN = join(__dirname, "..", "dist", "main.js");
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

function redisProblem(): string | undefined {
  const script = `
    const url = new URL(process.argv[1]);
    const socket = require("node:net").connect(Number(url.port || 6379), url.hostname);
    socket.setTimeout(2000, () => { process.stdout.write("timeout"); process.exit(1); });
    socket.on("connect", () => socket.write("PING\\r\\n"));
    socket.on("data", (d) => { process.stdout.write(String(d)); process.exit(String(d).startsWith("+PONG") ? 0 : 1); });
    socket.on("error", (e) => { process.stdout.write(e.message); process.exit(1); });`;
  const result = spawnSync(process.execPath, ["-e", script, redisUrl], {
    timeout: 5000,
    encoding: "utf8",
  });
  return result.status === 0
    ? undefined
    : `Redis at ${redisUrl} is unreachable (${(result.stdout || "no reply").trim()})`;
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DQ_LOG_LEVEL: "silent" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

interface Report {
  version: number;
  preliminary: boolean;
  machine: { cpus: number; node: string; redis: string | null };
  options: {
    cases: string[];
    systems: string[];
    jobs: number;
    runs: number;
    smoke: boolean;
    concurrency: number[];
  };
  metrics: { key: string; label: string; unit: string }[];
  results: Record<string, Record<string, { median: number; runs: number[] }>>;
  table: { columns: string[]; rows: string[][] };
}

const problem = redisProblem();
const describeSmoke = problem && !process.env.CI ? describe.skip : describe;

describeSmoke(`pnpm bench --smoke${problem ? ` (skipped: ${problem})` : ""}`, () => {
  const dir = mkdtempSync(join(tmpdir(), "dq-bench-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("measures every case for every reachable system and writes a well-formed table", async () => {
    if (problem) throw new Error(`${problem}; CI requires it`);
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`pnpm build\` first`);
    const out = join(dir, "smoke.json");
    const { code, stdout, stderr } = await run(["--smoke", "--out", out]);
    expect({ code, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, stderr: "" });

    const report = JSON.parse(readFileSync(out, "utf8")) as Report;
    expect(report).toMatchObject({
      version: 1,
      preliminary: true,
      options: { smoke: true, jobs: 200, runs: 1, cases: ["B1", "B1b", "B2", "B3"] },
    });
    expect(report.machine.redis).toMatch(/^\d+\.\d+/);
    expect(report.options.systems).toEqual(
      expect.arrayContaining(["dq", "bullmq", "bee-queue", "redis-floor"]),
    );

    const keys = report.metrics.map((metric) => metric.key);
    expect(keys).toEqual([
      "B1",
      "B1b",
      "B2 c1",
      "B2 c8",
      "B2 c64",
      "B2 c1 rss",
      "B2 c8 rss",
      "B2 c64 rss",
      "B3 p50",
      "B3 p99",
      "B3 rss",
    ]);
    // The floors take part in the round-trip cases only.
    const floorCases: Record<string, (key: string) => boolean> = {
      "redis-floor": (key) => key === "B1" || key.startsWith("B3"),
      "rabbitmq-floor": (key) => key.startsWith("B3"),
    };
    const keysOf = (system: string) => keys.filter(floorCases[system] ?? (() => true));
    for (const system of report.options.systems) {
      for (const key of keysOf(system)) {
        const cell = report.results[system]?.[key];
        expect({ system, key, runs: cell?.runs.length }).toEqual({ system, key, runs: 1 });
        expect(Number.isFinite(cell!.median) && cell!.median > 0).toBe(true);
      }
      // p50 <= p99, and a worker process is bigger than nothing but not absurdly big.
      expect(report.results[system]!["B3 p50"]!.median).toBeLessThanOrEqual(
        report.results[system]!["B3 p99"]!.median,
      );
      expect(report.results[system]!["B3 rss"]!.median).toBeGreaterThan(10);
      expect(report.results[system]!["B3 rss"]!.median).toBeLessThan(2048);
    }

    const { columns, rows } = report.table;
    expect(columns).toEqual([
      "case",
      "unit",
      "dq",
      "BullMQ",
      "bee-queue",
      "dq/BullMQ",
      "dq/bee-queue",
    ]);
    // dq's rows, then those of each other system in the dq column (dq on RabbitMQ, the floor).
    const others = report.options.systems.filter(
      (id) => !["dq", "bullmq", "bee-queue"].includes(id),
    );
    expect(rows).toHaveLength(keys.length + others.reduce((sum, id) => sum + keysOf(id).length, 0));
    expect(
      rows
        .filter((row) => row[0]!.endsWith("[floor: bare ioredis list, no queue code]"))
        .map((row) => row[0]),
    ).toEqual([
      "B1 enqueue, one at a time [floor: bare ioredis list, no queue code]",
      "B3 round trip p50 [floor: bare ioredis list, no queue code]",
      "B3 round trip p99 [floor: bare ioredis list, no queue code]",
      "B3 worker peak RSS [floor: bare ioredis list, no queue code]",
    ]);
    for (const row of rows) {
      expect(row).toHaveLength(columns.length);
      for (const value of row.slice(2, 5)) expect(value).toMatch(/^[\d,]+(\.\d+)?$/);
      for (const ratio of row.slice(5)) expect(ratio).toMatch(/^\d+\.\d\d×$/);
    }
    // The same table went to stdout: header, rule and one line per row.
    expect(stdout.trim().split("\n")).toHaveLength(rows.length + 2);
  }, 150_000);
});
