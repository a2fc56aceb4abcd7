import { describe, expect, it } from "@jest/globals";
import * as adapter from "../src/adapter.js";
import * as user from "../src/index.js";
import * as testing from "../src/testing.js";

describe("core's three entry points", () => {
  it("keeps the adapter-only helpers out of the user entry and in @dq/core/adapter", () => {
    const adapterOnly = [
      "optionValidator",
      "optionExplicit",
      "envInteger",
      "Deadlines",
      "computeBackoff",
      "sleep",
      "systemClock",
      "uuid4",
      "canonicalQueueName",
      "registerBrokerScheme",
      "importBrokerAdapter",
      "maskUrl",
      "Missing",
      "describeError",
    ];
    for (const name of adapterOnly) {
      expect([name, name in user]).toEqual([name, false]);
      expect([name, typeof (adapter as Record<string, unknown>)[name]]).not.toEqual([
        name,
        "undefined",
      ]);
    }
  });

  it("keeps the user API in @dq/core", () => {
    for (const name of [
      "actor",
      "Broker",
      "StubBroker",
      "Worker",
      "Message",
      "group",
      "pipeline",
      "Results",
      "holdAck",
      "getBrokerAsync",
      "InvalidOptionError",
      "EncodeError",
      "Consumer",
      "MessageProxy",
    ]) {
      expect([name, typeof (user as Record<string, unknown>)[name]]).not.toEqual([
        name,
        "undefined",
      ]);
    }
  });

  it("has the shared test helpers in @dq/core/testing", () => {
    for (const name of [
      "waitFor",
      "rejection",
      "uniqueQueueName",
      "recordingLogger",
      "describeWithServer",
      "PrivateRedis",
      "loadWireFixture",
    ]) {
      expect([name, typeof (testing as Record<string, unknown>)[name]]).not.toEqual([
        name,
        "undefined",
      ]);
    }
  });
});
