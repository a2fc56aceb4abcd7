// Argument parsing without spawning: defaults, variadic flags and aliases.
import { availableParallelism } from "node:os";
import { describe, expect, it } from "@jest/globals";
import { didYouMean, parseCliArgs, USAGE, UsageError } from "../src/args.js";

describe("parseCliArgs", () => {
  it("applies Dramatiq's defaults", () => {
    expect(parseCliArgs(["tasks.ts"])).toEqual({
      modules: ["tasks.ts"],
      processes: availableParallelism(),
      concurrency: 8,
      queues: undefined,
      paths: ["."],
      pidFile: undefined,
      logFile: undefined,
      watch: undefined,
      workerShutdownTimeout: 600_000,
      metrics: undefined,
      maxKills: 3,
      skipLogging: false,
      inMemory: false,
      scheduler: false,
      verbose: 0,
      help: false,
      version: false,
    });
  });

  it("reads --scheduler", () => {
    expect(parseCliArgs(["a.ts", "--scheduler"]).scheduler).toBe(true);
    expect(parseCliArgs(["a.ts"]).scheduler).toBe(false);
  });

  it("reads variadic, repeated and comma-separated queues and paths", () => {
    const options = parseCliArgs([
      "a.ts",
      "b.ts:broker",
      "-Q",
      "one",
      "two",
      "--queues",
      "three,four",
      "-P",
      "src",
      "lib",
      "-p",
      "3",
      "--concurrency",
      "5",
      "-vv",
    ]);
    expect(options.modules).toEqual(["a.ts", "b.ts:broker"]);
    expect(options.queues).toEqual(["one", "two", "three", "four"]);
    expect(options.paths).toEqual(["src", "lib"]);
    expect(options.processes).toBe(3);
    expect(options.concurrency).toBe(5);
    expect(options.verbose).toBe(2);
  });

  it("takes --threads as --concurrency and the file options", () => {
    const options = parseCliArgs([
      "a.ts",
      "-t",
      "16",
      "--pid-file",
      "dq.pid",
      "--log-file",
      "dq.log",
      "--watch",
      "src",
      "--skip-logging",
      "--worker-shutdown-timeout",
      "0",
    ]);
    expect(options).toMatchObject({
      concurrency: 16,
      pidFile: "dq.pid",
      logFile: "dq.log",
      watch: "src",
      skipLogging: true,
      workerShutdownTimeout: 0,
    });
  });

  it("reads --metrics [host:]port and --max-kills, naming a bad value", () => {
    expect(parseCliArgs(["a.ts", "--metrics", "9300"]).metrics).toEqual({ port: 9300 });
    expect(parseCliArgs(["a.ts", "--metrics", "0.0.0.0:9300"]).metrics).toEqual({
      host: "0.0.0.0",
      port: 9300,
    });
    expect(parseCliArgs(["a.ts", "--metrics", "[::1]:9300"]).metrics).toEqual({
      host: "::1",
      port: 9300,
    });
    expect(parseCliArgs(["a.ts", "--max-kills", "5"]).maxKills).toBe(5);
    expect(() => parseCliArgs(["a.ts", "--metrics", "host:"])).toThrow(
      /--metrics expects \[host:\]port \(got "host:"\)/,
    );
    expect(() => parseCliArgs(["a.ts", "--metrics", "70000"])).toThrow(
      /--metrics: port must be between 0 and 65535 \(got "70000"\)/,
    );
    expect(() => parseCliArgs(["a.ts", "--max-kills", "0"])).toThrow(
      /--max-kills must be between 1 and 1000 \(got "0"\)/,
    );
  });

  it("rejects a variadic flag with no value, naming it", () => {
    expect(() => parseCliArgs(["a.ts", "-Q"])).toThrow(
      new UsageError("option -Q expects at least one value"),
    );
    expect(() => parseCliArgs(["a.ts", "--path", "--verbose"])).toThrow(
      new UsageError("option --path expects at least one value"),
    );
  });

  it("suggests the closest flag for a misspelt one, naming what was given", () => {
    expect(() => parseCliArgs(["tasks.ts", "--thread", "4"])).toThrow(
      "unknown option '--thread'; did you mean --threads?",
    );
    expect(() => parseCliArgs(["tasks.ts", "--proceses=2"])).toThrow(
      "unknown option '--proceses'; did you mean --processes?",
    );
    expect(() => parseCliArgs(["tasks.ts", "--in-memroy"])).toThrow(
      "unknown option '--in-memroy'; did you mean --in-memory?",
    );
    expect(() => parseCliArgs(["tasks.ts", "--frobnicate"])).toThrow(
      /^unknown option '--frobnicate'$/,
    );
    expect(didYouMean("--queue")).toBe("--queues");
  });

  it("reads --in-memory", () => {
    expect(parseCliArgs(["tasks.ts", "--in-memory"]).inMemory).toBe(true);
  });

  it("lists every environment variable the command reads in --help, DQ_* names with dramatiq_* aliases", () => {
    for (const name of [
      "DQ_BROKER_URL",
      "DQ_LOG_LEVEL",
      "DQ_PROMETHEUS",
      "DQ_PROM_HOST",
      "DQ_PROM_PORT",
      "DQ_PROM_DB",
      "DQ_QUEUE_PREFETCH",
      "DQ_DELAY_QUEUE_PREFETCH",
      "DQ_WORKER_TIMEOUT",
      "DQ_RESTART_DELAY",
      "DQ_DEAD_MESSAGE_TTL",
      "DQ_LUA_MAX_STACK",
    ]) {
      expect(USAGE).toContain(name);
    }
    for (const alias of [
      "dramatiq_queue_prefetch",
      "dramatiq_delay_queue_prefetch",
      "dramatiq_worker_timeout",
      "dramatiq_restart_delay",
      "dramatiq_dead_message_ttl",
      "dramatiq_lua_max_stack",
      "dramatiq_prom_port",
    ]) {
      expect(USAGE).toContain(alias);
    }
  });
});
