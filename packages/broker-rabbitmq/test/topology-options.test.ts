// The declared arguments per queue type and server version (pure: no server).
import { describe, expect, it } from "@jest/globals";
import { topology } from "../src/index.js";

const args = (queueName: string, options: Parameters<typeof topology>[1]) =>
  Object.fromEntries(topology(queueName, options).map((queue) => [queue.name, queue.arguments]));

describe("topology per queue type", () => {
  it("classic: Dramatiq's arguments, unchanged (the old numeric form too)", () => {
    expect(args("q", { maxPriority: 5 })).toEqual(args("q", 5));
    expect(args("q", {})).toEqual({
      q: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "q.XQ" },
      "q.DQ": { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "q.XQ" },
      "q.XQ": { "x-message-ttl": 604_800_000 },
    });
  });

  it("quorum on 3.x: no delivery limit unless asked (3.x has none by default), never on q.DQ", () => {
    const declared = args("q", { queueType: "quorum", deliveryLimit: 4, serverMajor: 3 });
    expect(declared.q).toMatchObject({ "x-queue-type": "quorum", "x-delivery-limit": 4 });
    expect(declared["q.DQ"]).not.toHaveProperty("x-delivery-limit");
    expect(declared["q.XQ"]).toMatchObject({ "x-queue-type": "quorum" });
    expect(args("q", { queueType: "quorum", serverMajor: 3 }).q).not.toHaveProperty(
      "x-delivery-limit",
    );
  });

  it("quorum on 4.x: unlimited is spelled -1 (4.0 defaults to 20), and no x-max-priority", () => {
    const declared = args("q", { queueType: "quorum", maxPriority: 9, serverMajor: 4 });
    expect(declared.q).toEqual({
      "x-queue-type": "quorum",
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": "q.XQ",
      "x-delivery-limit": -1,
    });
    expect(declared["q.DQ"]).toMatchObject({ "x-delivery-limit": -1 });
    // Integers go on the wire typed as signed ints, as Python's pika writes them.
    const wire = topology("q", { queueType: "quorum", serverMajor: 4 })[0]!.wireArguments;
    expect(wire["x-delivery-limit"]).toEqual({ "!": "int", value: -1 });
  });
});
