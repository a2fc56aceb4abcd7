import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "@jest/globals";
import {
  ActorNotFound,
  BrokerError,
  ConnectionClosed,
  ConnectionError,
  ConnectionFailed,
  DecodeError,
  DramatiqError,
  getBroker,
  getBrokerAsync,
  getBrokerSchemes,
  isImplicitBroker,
  Interrupt,
  InvalidOptionError,
  MiddlewareError,
  QueueJoinTimeout,
  QueueNotFound,
  RateLimitExceeded,
  ResultError,
  ResultFailure,
  ResultMissing,
  ResultTimeout,
  Retry,
  setBroker,
  setLoggerFactory,
  Shutdown,
  SkipMessage,
  StubBroker,
  TimeLimitExceeded,
} from "../src/index.js";
import { dqEnvName, envInteger, registerBrokerScheme } from "../src/adapter.js";
import { recordingLogger } from "./helpers.js";

describe("errors", () => {
  it("follow Dramatiq's hierarchy with instanceof and name", () => {
    const cases: [Error, string, Function[]][] = [
      [new ActorNotFound("x"), "ActorNotFound", [BrokerError, DramatiqError, Error]],
      [new QueueNotFound("x"), "QueueNotFound", [BrokerError]],
      [new QueueJoinTimeout("x"), "QueueJoinTimeout", [BrokerError]],
      [
        new ConnectionClosed("x"),
        "ConnectionClosed",
        [ConnectionError, BrokerError, DramatiqError],
      ],
      [new ConnectionFailed("x"), "ConnectionFailed", [ConnectionError, BrokerError]],
      [new DecodeError("x"), "DecodeError", [DramatiqError]],
      [new RateLimitExceeded("x"), "RateLimitExceeded", [DramatiqError]],
      [new Retry({ delay: 5 }), "Retry", [DramatiqError]],
      [new ResultMissing("x"), "ResultMissing", [ResultError, DramatiqError]],
      [new ResultTimeout("x"), "ResultTimeout", [ResultError]],
      [new ResultFailure("x", "ValueError", "bad"), "ResultFailure", [ResultError]],
      [new SkipMessage("x"), "SkipMessage", [MiddlewareError, DramatiqError]],
      [new TimeLimitExceeded("x"), "TimeLimitExceeded", [Interrupt, DramatiqError]],
      [new Shutdown("x"), "Shutdown", [Interrupt]],
    ];
    for (const [error, name, parents] of cases) {
      expect(error.name).toBe(name);
      for (const parent of parents) expect(error).toBeInstanceOf(parent);
    }
    expect(new Retry({ delay: 5 }).delay).toBe(5);
    const failure = new ResultFailure("actor raised ValueError: bad", "ValueError", "bad");
    expect([failure.origExcType, failure.origExcMsg]).toEqual(["ValueError", "bad"]);
    expect(new ConnectionFailed("down", { cause: new Error("ECONNREFUSED") }).cause).toEqual(
      new Error("ECONNREFUSED"),
    );
  });

  it("are recognised across copies of the package by isInstance", () => {
    const foreign = Object.assign(new Error("from another copy"), {
      [Symbol.for("dq.error")]: [
        "ConnectionClosed",
        "ConnectionError",
        "BrokerError",
        "DramatiqError",
      ],
    });
    expect(foreign instanceof ConnectionError).toBe(false);
    expect(ConnectionError.isInstance(foreign)).toBe(true);
    expect(DramatiqError.isInstance(foreign)).toBe(true);
    expect(DecodeError.isInstance(foreign)).toBe(false);
  });
});

describe("getBroker / setBroker", () => {
  const saved = process.env.DQ_BROKER_URL;
  afterEach(() => {
    setBroker(undefined);
    setLoggerFactory(undefined);
    if (saved === undefined) delete process.env.DQ_BROKER_URL;
    else process.env.DQ_BROKER_URL = saved;
  });

  it("falls back to an in-memory StubBroker, warning once and naming DQ_BROKER_URL", () => {
    delete process.env.DQ_BROKER_URL;
    const logger = recordingLogger();
    setLoggerFactory(() => logger);
    const broker = getBroker();
    expect(broker).toBeInstanceOf(StubBroker);
    expect(getBroker()).toBe(broker);
    const warnings = logger.lines.filter((line) => line.includes("in-memory StubBroker"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^warn .*set DQ_BROKER_URL/);
    expect(isImplicitBroker()).toBe(true);
    setBroker(new StubBroker());
    expect(isImplicitBroker()).toBe(false);
  });

  it("builds the broker for DQ_BROKER_URL through the scheme registry", () => {
    const built = new StubBroker();
    registerBrokerScheme("dqtest", () => built);
    process.env.DQ_BROKER_URL = "dqtest://somewhere";
    expect(getBroker()).toBe(built);
    expect(getBrokerSchemes()).toContain("dqtest");
  });

  it("names an unknown scheme and lists the known ones", async () => {
    process.env.DQ_BROKER_URL = "reddis://:secret@127.0.0.1:6379";
    expect(() => getBroker()).toThrow(InvalidOptionError);
    expect(() => getBroker()).toThrow(
      /^unknown broker URL scheme "reddis" in "reddis:\/\/:\*\*\*@127.0.0.1:6379"; known schemes: amqp, amqps, (dqtest, )?redis, rediss$/,
    );
    await expect(getBrokerAsync()).rejects.toThrow(
      /unknown broker URL scheme "reddis".*known schemes: amqp, amqps, (dqtest, )?redis, rediss/,
    );
    process.env.DQ_BROKER_URL = "::not a url::";
    expect(() => getBroker()).toThrow('invalid broker URL "::not a url::"');
  });

  it("names the adapter a known scheme needs, and getBrokerAsync names the package to install", async () => {
    process.env.DQ_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672";
    expect(() => getBroker()).toThrow(
      /"amqp:\/\/guest:\*\*\*@127.0.0.1:5672" needs @dq\/broker-rabbitmq.*getBrokerAsync/,
    );
    // A producer outside the workspace, where no adapter is installed: @dq/core's build, run by node.
    const dir = mkdtempSync(path.join(tmpdir(), "dq-no-adapter-"));
    try {
      const core = pathToFileURL(path.resolve(__dirname, "../dist/index.js")).href;
      writeFileSync(
        path.join(dir, "send.mjs"),
        `import { getBrokerAsync } from ${JSON.stringify(core)};\nawait getBrokerAsync().then((b) => console.log("got", b.constructor.name), (error) => { console.log(error.message); });\n`,
      );
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ["send.mjs"], {
        cwd: dir,
        env: { ...process.env, NODE_PATH: "", DQ_BROKER_URL: "amqp://guest:guest@127.0.0.1:5672" },
      });
      expect(stdout + stderr).toMatch(
        /^broker URL scheme "amqp" needs the package @dq\/broker-rabbitmq, which is not installed .*install it with `npm install @dq\/broker-rabbitmq`/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads the DQ_* name of a setting, with Dramatiq's dramatiq_* name as an alias", () => {
    const keep = { ...process.env };
    try {
      delete process.env.DQ_QUEUE_PREFETCH;
      process.env.dramatiq_queue_prefetch = "7";
      expect(envInteger("dramatiq_queue_prefetch", 1)).toBe(7);
      process.env.DQ_QUEUE_PREFETCH = "9";
      expect(envInteger("dramatiq_queue_prefetch", 1)).toBe(9);
      process.env.DQ_QUEUE_PREFETCH = "lots";
      expect(() => envInteger("dramatiq_queue_prefetch", 1)).toThrow(
        'environment variable DQ_QUEUE_PREFETCH="lots" is not a non-negative integer',
      );
      expect(dqEnvName("dramatiq_worker_timeout")).toBe("DQ_WORKER_TIMEOUT");
    } finally {
      process.env = keep;
    }
  });

  it("uses the broker set with setBroker", () => {
    const mine = new StubBroker();
    setBroker(mine);
    expect(getBroker()).toBe(mine);
  });
});
