import { afterEach, describe, expect, it } from "@jest/globals";
import { DecodeError, Message, StubBroker, Worker, actor } from "../src/index.js";
import { decodeDelivery } from "../src/adapter.js";
import { FakeClock } from "../src/testing.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("declaration listeners", () => {
  it("replays declared queues to a listener, tells it later ones, and stops once removed", () => {
    const broker = new StubBroker();
    broker.declareQueue("early");
    const seen: string[] = [];
    const remove = broker.onDeclare((queueName, kind) => void seen.push(`${kind}:${queueName}`));
    broker.declareQueue("late");
    remove();
    broker.declareQueue("after");
    expect(seen).toEqual([
      "queue:early",
      "delayQueue:early.DQ",
      "queue:late",
      "delayQueue:late.DQ",
    ]);
  });

  it("logs a listener's error and goes on declaring", () => {
    const errors: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (message: string) => void errors.push(message),
    };
    const broker = new StubBroker({ logger });
    broker.onDeclare(() => {
      throw new Error("boom");
    });
    broker.declareQueue("q");
    expect(broker.getDeclaredQueues()).toEqual(["q"]);
    expect(errors).toEqual([
      "Unexpected failure in a declaration listener for q",
      "Unexpected failure in a declaration listener for q.DQ",
    ]);
  });

  it("a started worker leaves the broker's middleware list alone and consumes queues declared later", async () => {
    const broker = new StubBroker();
    const before = [...broker.middleware];
    const worker = new Worker(broker, { workerTimeout: 20 });
    await worker.start();
    cleanups.push(async () => void (await worker.stop({ timeout: 2000 })));
    expect(broker.middleware).toEqual(before);
    const ran: number[] = [];
    const late = actor((x: number) => void ran.push(x), {
      broker,
      actorName: "late",
      queueName: "declared_after_start",
    });
    await late.send(7);
    await broker.join("declared_after_start", { timeout: 5000 });
    expect(ran).toEqual([7]);
  });
});

describe("decodeDelivery", () => {
  it("decodes a message's bytes into a proxy", () => {
    const message = new Message({
      queueName: "q",
      actorName: "a",
      args: [1],
      kwargs: {},
      options: {},
    });
    const proxy = decodeDelivery("q", message.encode());
    expect(proxy.undecodable).toBe(false);
    expect(proxy.messageId).toBe(message.messageId);
  });

  it("turns bytes that do not decode into a failed proxy keeping them, for the worker to dead-letter", () => {
    const data = Buffer.from("not json", "utf8");
    const proxy = decodeDelivery("q", data);
    expect(proxy.undecodable).toBe(true);
    expect(proxy.failed).toBe(true);
    expect(proxy.raw).toBe(data);
    expect(proxy.queueName).toBe("q");
    expect(DecodeError.isInstance(proxy.exception)).toBe(true);
  });
});

describe("FakeClock", () => {
  it("fires timers in order at their own time when advanced, and not cleared ones", async () => {
    const clock = new FakeClock(1000);
    const fired: [string, number][] = [];
    clock.setTimeout(() => fired.push(["b", clock.now()]), 50);
    clock.setTimeout(() => fired.push(["a", clock.now()]), 20);
    const gone = clock.setTimeout(() => fired.push(["gone", clock.now()]), 30);
    clock.clearTimeout(gone);
    expect(clock.pending).toBe(2);
    await clock.advance(40);
    expect(fired).toEqual([["a", 1020]]);
    expect(clock.now()).toBe(1040);
    await clock.advance(10);
    expect(fired).toEqual([
      ["a", 1020],
      ["b", 1050],
    ]);
    expect(clock.pending).toBe(0);
  });

  it("holds a delayed message until the worker's clock reaches its eta", async () => {
    const clock = new FakeClock();
    const broker = new StubBroker({ clock });
    const worker = new Worker(broker, { workerTimeout: 20 });
    const ran: number[] = [];
    const later = actor(() => void ran.push(clock.now()), { broker, actorName: "later" });
    await worker.start();
    cleanups.push(async () => void (await worker.stop({ timeout: 2000 })));
    const start = clock.now();
    await later.sendWithOptions({ args: [], delay: 60_000 });
    // Real time passes, the fake clock does not: the message stays held.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ran).toEqual([]);
    await clock.advance(60_000);
    await broker.join("default", { timeout: 5000 });
    expect(ran).toHaveLength(1);
    expect(ran[0]! - start).toBeGreaterThanOrEqual(60_000);
  });
});
