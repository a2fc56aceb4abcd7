import { afterEach, describe, expect, it } from "@jest/globals";
import { z } from "zod";
import {
  actor,
  ActorNotFound,
  GenericActor,
  InvalidArgumentsError,
  InvalidOptionError,
  Message,
  StubBroker,
  type Actor,
  type GenericActorMeta,
} from "../src/index.js";
import { harness, waitFor } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("actor()", () => {
  it("is callable, typed, and builds messages without I/O", async () => {
    const broker = new StubBroker();
    const add = actor(
      function add(x: number, y: number) {
        return x + y;
      },
      { broker },
    );
    expect(add(1, 2)).toBe(3);
    expect(add.actorName).toBe("add");
    expect(add.queueName).toBe("default");
    expect(add.priority).toBe(0);
    expect(add.broker).toBe(broker);
    const message: Message<number> = add.message(1, 2);
    expect(message.asDict()).toMatchObject({
      queue_name: "default",
      actor_name: "add",
      args: [1, 2],
      kwargs: {},
      options: {},
    });
    const withOptions = add.messageWithOptions({ args: [1, 2], pipeIgnore: true, maxRetries: 3 });
    expect(withOptions.asDict().options).toEqual({ pipe_ignore: true, max_retries: 3 });
    // @ts-expect-error wrong argument types do not compile
    add.message("1", 2);
    const enqueued = await add.sendWithOptions({ args: [1, 2], delay: 5000 });
    expect(enqueued.queueName).toBe("default.DQ");
    expect(enqueued.options.eta).toBeGreaterThan(Date.now());
  });

  it("needs a name", () => {
    const broker = new StubBroker();
    expect(() => actor(() => 1, { broker })).toThrow(InvalidOptionError);
    expect(() => actor(() => 1, { broker })).toThrow(/actorName/);
    expect(actor(() => 1, { broker, actorName: "named" }).actorName).toBe("named");
  });

  it("rejects an invalid queue name at declaration, showing it", () => {
    const broker = new StubBroker();
    for (const queueName of ["", "1abc", "has space", "sl/ash", "ünï"]) {
      expect(() => actor(function bad() {}, { broker, queueName })).toThrow(InvalidOptionError);
    }
    expect(() => actor(function bad() {}, { broker, queueName: "has space" })).toThrow(
      /"has space"/,
    );
    expect(actor(function good() {}, { broker, queueName: "_ok.name-1" }).queueName).toBe(
      "_ok.name-1",
    );
  });

  it("rejects an option no middleware declares, naming it", () => {
    const broker = new StubBroker();
    // @ts-expect-error -- a misspelt option does not compile; JavaScript callers meet the run-time check
    expect(() => actor(function f() {}, { broker, maxRetriez: 3 })).toThrow(
      /"maxRetriez".*Did you forget to add a middleware/,
    );
    expect(() => actor(function g() {}, { broker, storeResults: true })).toThrow(/"storeResults"/);
    expect(
      actor(function h() {}, { broker, maxRetries: 3, timeLimit: 10, maxAge: 5, onSuccess: "x" })
        .options,
    ).toEqual({
      maxRetries: 3,
      timeLimit: 10,
      maxAge: 5,
      onSuccess: "x",
    });
  });

  it("rejects a second actor with the same name", () => {
    const broker = new StubBroker();
    actor(function twice() {}, { broker });
    expect(() => actor(function twice() {}, { broker })).toThrow(/already declared/);
  });

  it("turns actor references in callback options into names", () => {
    const broker = new StubBroker();
    const done = actor(function done() {}, { broker });
    const work = actor(function work() {}, { broker, onSuccess: done });
    expect(work.options.onSuccess).toBe("done");
    expect(work.messageWithOptions({ onFailure: done }).options.onFailure).toBe("done");
  });

  it("validates arguments with a zod schema at send, enqueuing nothing", async () => {
    const broker = new StubBroker();
    const email = actor((to: string) => to, {
      broker,
      actorName: "email",
      schema: z.tuple([z.string().email()]),
    });
    await expect(email.send("not-an-email")).rejects.toThrow(InvalidArgumentsError);
    await expect(email.send("not-an-email")).rejects.toThrow(/email.*args\[0\]/);
    await broker.join("default", { timeout: 100 });
    await expect(email.send("a@b.co")).resolves.toBeInstanceOf(Message);
  });

  it("dead-letters a schema-violating payload from another producer instead of running it", async () => {
    const h = await harness();
    cleanups.push(h.stop);
    const ran: string[] = [];
    actor((to: string) => void ran.push(to), {
      broker: h.broker,
      actorName: "strict",
      schema: z.tuple([z.string()]),
    });
    h.broker.enqueueRaw(
      "default",
      JSON.stringify({
        queue_name: "default",
        actor_name: "strict",
        args: [42],
        kwargs: {},
        options: {},
      }),
    );
    await waitFor(() => h.broker.deadLetters.length === 1, "the dead letter");
    expect(ran).toEqual([]);
    expect(h.broker.deadLetters[0]!.exception).toBeInstanceOf(InvalidArgumentsError);
  });

  it("passes kwargs from another language as a trailing object", async () => {
    const h = await harness();
    cleanups.push(h.stop);
    const seen: unknown[][] = [];
    actor((...args: unknown[]) => void seen.push(args), { broker: h.broker, actorName: "kw" });
    await h.broker.enqueue(
      new Message({ queueName: "default", actorName: "kw", args: [1], kwargs: { y: 5 } }),
    );
    await h.broker.enqueue(new Message({ queueName: "default", actorName: "kw", args: [2] }));
    await h.broker.join("default");
    expect(seen).toEqual([[1, { y: 5 }], [2]]);
  });

  it("dead-letters a message for an unknown actor with ActorNotFound", async () => {
    const h = await harness();
    cleanups.push(h.stop);
    h.broker.declareQueue("default");
    await h.broker.enqueue(new Message({ queueName: "default", actorName: "ghost" }));
    await expect(h.broker.join("default")).rejects.toBeInstanceOf(ActorNotFound);
    expect(h.logger.lines.some((line) => line.includes("unknown actor"))).toBe(true);
  });
});

describe("GenericActor", () => {
  it("declares class-based actors with inherited meta, skipping abstract bases", async () => {
    const h = await harness();
    cleanups.push(h.stop);
    const sent: string[] = [];
    abstract class Base extends GenericActor {
      static override meta: GenericActorMeta = {
        abstract: true,
        queueName: "emails",
        maxRetries: 2,
        broker: h.broker,
      };
    }
    class Email extends Base {
      perform(to: string) {
        sent.push(to);
        return to.length;
      }
    }
    class Urgent extends Base {
      static override meta = { priority: -5 };
      perform() {}
    }
    expect(() => GenericActor.declare(Base as never)).toThrow(/abstract/);
    const message = await Email.send("a@b.co");
    expect(message.queueName).toBe("emails");
    const emailActor: Actor<[string], number> = Email.actor();
    expect(emailActor.actorName).toBe("Email");
    expect(emailActor.options.maxRetries).toBe(2);
    expect(Urgent.actor().priority).toBe(-5);
    expect(Urgent.actor().queueName).toBe("emails");
    expect(GenericActor.isActorClass(Email)).toBe(true);
    expect(GenericActor.isActorClass(Base)).toBe(false);
    await h.broker.join("emails");
    expect(sent).toEqual(["a@b.co"]);
  });
});
