/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are read loosely in tests */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { addressFromUrl, describeWithServer, uniqueQueueName } from "@dq/core/testing";
// Registered here: jest cannot import the file: URL core resolves adapters to (the command does).
import "@dq/broker-redis";
import "@dq/broker-rabbitmq";
import { parseCli, runCli, type RunningDashboard } from "../../src/cli.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

function capture() {
  const io = {
    stdout: "",
    stderr: "",
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
  };
  return io;
}

describe("dq-dashboard's arguments", () => {
  it("parses brokers, results, port, host, base path and read-only", () => {
    expect(
      parseCli([
        "--broker",
        "redis://a",
        "--broker=amqp://b",
        "--results",
        "redis://c",
        "--port",
        "0",
        "--host",
        "::1",
        "--base-path",
        "/dq/",
        "--read-only",
      ]),
    ).toEqual({
      brokers: ["redis://a", "amqp://b"],
      results: "redis://c",
      port: 0,
      host: "::1",
      basePath: "/dq",
      readOnly: true,
      help: false,
    });
    expect(parseCli(["--broker", "redis://a"])).toMatchObject({ host: "127.0.0.1", port: 9181 });
  });

  it("exits 2 with a did-you-mean on a bad flag, a missing broker or a bad port", async () => {
    for (const [argv, expected] of [
      [
        ["--broker", "redis://x", "--prot", "1"],
        /unknown option "--prot" \(did you mean --port\?\)/,
      ],
      [["--brokers", "redis://x"], /did you mean --broker\?/],
      [["--readonly", "--broker", "redis://x"], /did you mean --read-only\?/],
      [[], /at least one --broker/],
      [["--broker", "redis://x", "--port", "http"], /--port must be an integer/],
      [["--broker"], /--broker needs a value/],
    ] as const) {
      const io = capture();
      expect(await runCli(argv, io)).toBe(2);
      expect(io.stderr).toMatch(expected);
      expect(io.stderr).toContain("Usage: dq-dashboard");
    }
  });

  it("prints the usage with --help and exits 0", async () => {
    const io = capture();
    expect(await runCli(["--help"], io)).toBe(0);
    expect(io.stdout).toContain("--read-only");
  });

  it("exits 1 naming the known schemes on an unknown broker scheme", async () => {
    const io = capture();
    expect(await runCli(["--broker", "kafka://localhost"], io)).toBe(1);
    expect(io.stderr).toMatch(/unknown broker URL scheme "kafka"/);
  });
});

describeWithServer("Redis", addressFromUrl(REDIS_URL, 6379), () => {
  describeWithServer("RabbitMQ", addressFromUrl(AMQP_URL, 5672), () => {
    describe("dq-dashboard serving", () => {
      const running: RunningDashboard[] = [];
      afterAll(async () => {
        for (const item of running) await item.close();
      });

      it("binds 127.0.0.1 by default and serves both brokers, passwords masked", async () => {
        const io = capture();
        const namespace = uniqueQueueName("dqdashcli");
        const result = await runCli(
          [
            "--broker",
            `${REDIS_URL}/0?namespace=${namespace}`,
            "--broker",
            AMQP_URL,
            "--port",
            "0",
            "--base-path",
            "/dq",
          ],
          io,
        );
        expect(io.stderr).toBe("");
        expect(typeof result).toBe("object");
        const dashboard = result as RunningDashboard;
        running.push(dashboard);
        expect((dashboard.server.address() as any).address).toBe("127.0.0.1");
        expect(io.stdout).toMatch(/serving http:\/\/127\.0\.0\.1:\d+\/dq\//);
        expect(io.stdout).not.toContain("guest:guest");
        const session = (await (await fetch(`${dashboard.url}api/session`)).json()) as any;
        expect(session.brokers.map((b: any) => [b.id, b.kind])).toEqual([
          ["redis", "redis"],
          ["rabbitmq", "rabbitmq"],
        ]);
        expect(JSON.stringify(session)).not.toContain("guest:guest");
        const page = await fetch(dashboard.url);
        expect(await page.text()).toContain('<base href="/dq/">');
      });

      it("shows stored results with --results and refuses actions with --read-only", async () => {
        const io = capture();
        const result = await runCli(
          ["--broker", REDIS_URL, "--results", REDIS_URL, "--read-only", "--port", "0"],
          io,
        );
        expect(io.stderr).toBe("");
        const dashboard = result as RunningDashboard;
        running.push(dashboard);
        expect(io.stdout).toContain("read-only");
        const session = (await (await fetch(`${dashboard.url}api/session`)).json()) as any;
        expect(session).toMatchObject({ readOnly: true, features: { results: true } });
      });

      const bin = path.join(__dirname, "../../bin/dq-dashboard.js");
      const built = existsSync(path.join(__dirname, "../../dist/bin.js"));
      (built ? it : it.skip)(
        "runs as a command: a bad flag exits 2 with a did-you-mean",
        async () => {
          const child = spawn(process.execPath, [bin, "--brokr", "redis://127.0.0.1:6379"], {
            stdio: ["ignore", "pipe", "pipe"],
          });
          let stderr = "";
          child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
          const code = await new Promise((resolve) => child.on("exit", resolve));
          expect(code).toBe(2);
          expect(stderr).toContain("did you mean --broker?");
        },
      );
    });
  });
});
