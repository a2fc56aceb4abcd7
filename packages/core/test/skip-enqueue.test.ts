import { describe, expect, it } from "@jest/globals";
import {
  actor,
  Middleware,
  SkipEnqueue,
  SkipMessage,
  StubBroker,
  type Broker,
  type Message,
} from "../src/index.js";

/** Leaves out messages whose first argument is "skip"; records what was published. */
class Filter extends Middleware {
  readonly published: unknown[] = [];
  constructor(private readonly async: boolean) {
    super();
  }
  override beforeEnqueue(_broker: Broker, message: Message): void | Promise<void> {
    const decide = () => {
      if (message.args[0] === "skip") throw new SkipEnqueue("left out");
      if (message.args[0] === "fail") throw new SkipMessage("not an enqueue skip");
    };
    if (!this.async) return decide();
    return Promise.resolve().then(decide);
  }
  override afterEnqueue(_broker: Broker, message: Message): void {
    this.published.push(message.args[0]);
  }
}

describe.each([false, true])("SkipEnqueue from a before hook (async: %s)", (async) => {
  function setup() {
    const filter = new Filter(async);
    const broker = new StubBroker({ middleware: [filter] });
    const queueName = `skip_enqueue_${String(async)}`;
    const job = actor(function skip_job(_label: string) {}, { broker, queueName });
    return { broker, filter, job, queueName };
  }

  it("resolves send with the message, unpublished, without afterEnqueue", async () => {
    const { broker, filter, job, queueName } = setup();
    const skipped = await job.send("skip");
    expect(skipped.args).toEqual(["skip"]);
    expect(skipped.actorName).toBe("skip_job");
    await job.send("keep");
    expect(filter.published).toEqual(["keep"]);
    const consumer = broker.consume(queueName, { timeout: 10 });
    const first = await consumer.next();
    expect(first.value?.args).toEqual(["keep"]);
    const second = await consumer.next();
    expect(second.value).toBeNull();
    await consumer.close();
  });

  it("still rejects with any other control-flow error", async () => {
    const { job } = setup();
    await expect(job.send("fail")).rejects.toThrow(SkipMessage);
  });

  it("leaves skipped messages out of enqueueMany but returns all of them in order", async () => {
    const { broker, filter, job } = setup();
    const sent = await broker.enqueueMany([
      job.message("a"),
      job.message("skip"),
      job.message("b"),
    ]);
    expect(sent.map((message) => message.args[0])).toEqual(["a", "skip", "b"]);
    expect(filter.published).toEqual(["a", "b"]);
    expect(await broker.enqueueMany([job.message("skip")])).toHaveLength(1);
    expect(filter.published).toEqual(["a", "b"]);
  });
});
