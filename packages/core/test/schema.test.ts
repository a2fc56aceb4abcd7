import { describe, expect, it } from "@jest/globals";
import { z as z3 } from "zod3";
import { z as z4 } from "zod4";
import {
  actor,
  InvalidArgumentsError,
  InvalidOptionError,
  Message,
  StubBroker,
  type ArgsSchema,
} from "../src/index.js";
import { harness, waitFor } from "./helpers.js";

describe("argument schemas", () => {
  const schemas = {
    "zod 3": z3.tuple([z3.string().email(), z3.number().int()]),
    "zod 4": z4.tuple([z4.string().email(), z4.number().int()]),
  };
  for (const [version, schema] of Object.entries(schemas)) {
    it(`checks arguments with a ${version} schema at send, naming the actor and the path`, async () => {
      const broker = new StubBroker();
      const email = actor((to: string, times: number) => `${to} x${times}`, {
        broker,
        actorName: `email_${version.replace(" ", "")}`,
        schema,
      });
      await expect(email.send("not-an-email", 1)).rejects.toThrow(InvalidArgumentsError);
      await expect(email.send("a@b.co", 1.5)).rejects.toThrow(/email_zod\d.*args\[1\]/);
      await expect(email.send("a@b.co", 2)).resolves.toBeInstanceOf(Message);
    });
  }

  it("runs a zod 3 schema's parsed output, and dead-letters a payload it rejects", async () => {
    const h = await harness();
    try {
      const ran: number[] = [];
      actor((n) => void ran.push(n), {
        broker: h.broker,
        actorName: "z3_strict",
        schema: z3.tuple([z3.number()]),
      });
      h.broker.enqueueRaw(
        "default",
        JSON.stringify({
          queue_name: "default",
          actor_name: "z3_strict",
          args: ["x"],
          kwargs: {},
          options: {},
        }),
      );
      await waitFor(() => h.broker.deadLetters.length === 1, "the dead letter");
      expect(ran).toEqual([]);
      expect(h.broker.deadLetters[0]!.exception).toBeInstanceOf(InvalidArgumentsError);
    } finally {
      await h.stop();
    }
  });

  it("refuses a schema that validates asynchronously, naming the option", async () => {
    const broker = new StubBroker();
    const slow = actor((name: string) => name, {
      broker,
      actorName: "slow",
      schema: z4.tuple([z4.string().refine(async () => Promise.resolve(true))]),
    });
    await expect(slow.send("x")).rejects.toThrow(/slow.*"schema" validates asynchronously/);
  });

  it("rejects a schema that is not a Standard Schema (zod before 3.24), saying which zod is needed", () => {
    const broker = new StubBroker();
    const oldZod = {
      safeParse: (value: unknown) => ({ success: true, data: value }),
    } as unknown as ArgsSchema;
    expect(() => actor(function old_zod() {}, { broker, schema: oldZod })).toThrow(
      InvalidOptionError,
    );
    expect(() => actor(function old_zod2() {}, { broker, schema: oldZod })).toThrow(
      /"schema".*zod 3\.24 or later, zod 4.*older than 3\.24/,
    );
    expect(() =>
      actor(function not_schema() {}, { broker, schema: 42 as unknown as ArgsSchema }),
    ).toThrow(/"schema".*a value of type number/);
  });
});
