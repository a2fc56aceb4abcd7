// PoisonGuard inside one process (StubBroker + Worker): a message at the kill bound is
// dead-lettered without running; a suspect starts only once the running messages are acked, and
// nothing starts while it runs.
import { describe, expect, it } from "@jest/globals";
import { actor, Middleware, StubBroker, Worker, type Broker, type MessageProxy } from "@dq/core";
import { recordingLogger } from "@dq/core/testing";
import { PoisonGuard, PoisonMessage } from "../src/poison.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Records acks and nacks in `events`. */
class AckRecorder extends Middleware {
  constructor(private readonly events: string[]) {
    super();
  }
  override afterAck(_broker: Broker, message: MessageProxy): void {
    this.events.push(`ack ${message.args[0] as string}`);
  }
  override afterNack(_broker: Broker, message: MessageProxy): void {
    this.events.push(`nack ${message.args[0] as string}`);
  }
}

async function run(counts: (ids: Record<string, string>) => Record<string, number>) {
  const broker = new StubBroker();
  const events: string[] = [];
  const job = actor(
    async function job(name: string, ms: number) {
      events.push(`start ${name}`);
      await sleep(ms);
      events.push(`end ${name}`);
    },
    { broker, queueName: "guarded", maxRetries: 0 },
  );
  broker.addMiddleware(new AckRecorder(events));
  const ids: Record<string, string> = {};
  for (const [name, ms] of [
    ["a", 150],
    ["b", 200],
    ["c", 250],
    ["suspect", 100],
    ["d", 50],
    ["e", 50],
  ] as const) {
    ids[name] = (await job.send(name, ms)).messageId;
  }
  const logger = recordingLogger();
  const lines = logger.lines;
  new PoisonGuard(3, counts(ids), logger).install(broker);
  const worker = new Worker(broker, { concurrency: 4 });
  await worker.start();
  await broker.join("guarded", { failFast: false });
  await worker.join();
  await worker.stop();
  return { broker, events, ids, lines };
}

describe("PoisonGuard", () => {
  it("runs a suspect alone, after the running messages are acked, and starts nothing else until it is acked", async () => {
    const { events, lines } = await run((ids) => ({ [ids.suspect!]: 1 }));
    const at = (event: string) => events.indexOf(event);
    for (const name of ["a", "b", "c"]) expect(at(`ack ${name}`)).toBeLessThan(at("start suspect"));
    for (const name of ["d", "e"]) expect(at(`start ${name}`)).toBeGreaterThan(at("ack suspect"));
    expect(events.slice(at("start suspect"), at("ack suspect") + 1)).toEqual([
      "start suspect",
      "end suspect",
      "ack suspect",
    ]);
    expect(lines.join("\n")).toMatch(
      /killed a worker process 1 time: running it alone once the 3 running messages settled/,
    );
  });

  it("runs neighbours concurrently when no message is a suspect", async () => {
    const { events } = await run(() => ({}));
    // Four start before the first ends (concurrency 4), the suspect among them.
    expect(events.slice(0, 4).every((event) => event.startsWith("start"))).toBe(true);
  });

  it("dead-letters a message at the bound without running it, with PoisonMessage and an ERROR", async () => {
    const { broker, events, ids, lines } = await run((ids) => ({ [ids.suspect!]: 3 }));
    expect(events).not.toContain("start suspect");
    expect(events).toContain("nack suspect");
    const [letter] = broker.deadLetters;
    expect(letter?.messageId).toBe(ids.suspect);
    expect(letter?.exception).toBeInstanceOf(PoisonMessage);
    expect(lines).toContain(
      `error Dead-lettering message ${ids.suspect!} (job): PoisonMessage: its processing killed its worker process 3 times (bound 3).`,
    );
    expect(new PoisonMessage("x").name).toBe("PoisonMessage");
  });
});
