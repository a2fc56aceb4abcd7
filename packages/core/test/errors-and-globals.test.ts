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
  getBrokerSchemes,
  Interrupt,
  InvalidOptionError,
  MiddlewareError,
  QueueJoinTimeout,
  QueueNotFound,
  RateLimitExceeded,
  registerBrokerScheme,
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
import { recordingLogger } from "./helpers.js";

describe("errors", () => {
  it("follow Dramatiq's hierarchy with instanceof and name", () => {
    const cases: [Error, string, Function[]][] = [
      [new ActorNotFound("x"), "ActorNotFound", [BrokerError, DramatiqError, Error]],
      [new QueueNotFound("x"), "QueueNotFound", [BrokerError]],
      [new QueueJoinTimeout("x"), "QueueJoinTimeout", [BrokerError]],
      [new ConnectionClosed("x"), "ConnectionClosed", [ConnectionError, BrokerError, DramatiqError]],
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
    expect(new ConnectionFailed("down", { cause: new Error("ECONNREFUSED") }).cause).toEqual(new Error("ECONNREFUSED"));
  });

  it("are recognised across copies of the package by isInstance", () => {
    const foreign = Object.assign(new Error("from another copy"), { [Symbol.for("dq.error")]: ["ConnectionClosed", "ConnectionError", "BrokerError", "DramatiqError"] });
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

  it("falls back to an in-memory StubBroker, saying so once", () => {
    delete process.env.DQ_BROKER_URL;
    const logger = recordingLogger();
    setLoggerFactory(() => logger);
    const broker = getBroker();
    expect(broker).toBeInstanceOf(StubBroker);
    expect(getBroker()).toBe(broker);
    expect(logger.lines.filter((line) => line.includes("in-memory StubBroker"))).toHaveLength(1);
  });

  it("builds the broker for DQ_BROKER_URL through the scheme registry", () => {
    const built = new StubBroker();
    registerBrokerScheme("dqtest", () => built);
    process.env.DQ_BROKER_URL = "dqtest://somewhere";
    expect(getBroker()).toBe(built);
    expect(getBrokerSchemes()).toContain("dqtest");
  });

  it("names an unregistered scheme and the adapters to import", () => {
    process.env.DQ_BROKER_URL = "nosuch://127.0.0.1";
    expect(() => getBroker()).toThrow(InvalidOptionError);
    expect(() => getBroker()).toThrow(/"nosuch".*@dq\/broker-redis/);
    process.env.DQ_BROKER_URL = "::not a url::";
    expect(() => getBroker()).toThrow(/invalid broker URL/);
  });

  it("uses the broker set with setBroker", () => {
    const mine = new StubBroker();
    setBroker(mine);
    expect(getBroker()).toBe(mine);
  });
});
