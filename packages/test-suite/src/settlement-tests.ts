import { expect, it } from "@jest/globals";
import {
  actor,
  ConnectionClosed,
  holdAck,
  Middleware,
  Retry,
  type Broker,
  type Logger,
  type MessageProxy,
  type Worker,
} from "@dq/core";
import { waitFor } from "@dq/core/testing";

/** What `defineBrokerTests` hands the settlement cases. */
export interface SettlementCaseContext {
  setup(
    middleware?: Middleware[],
  ): Promise<{ broker: Broker; queueName: string; logger: Logger & { lines: string[] } }>;
  startWorker(broker: Broker, options?: ConstructorParameters<typeof Worker>[1]): Promise<Worker>;
  fastRetries(): Middleware[];
  requeue: boolean;
  deadLetterIds: ((broker: Broker, queueName: string) => Promise<string[]>) | undefined;
}

/** Fails the ack-holding work of each message's first run with a ConnectionError: a broker outage. */
class FirstSettlementFails extends Middleware {
  private readonly seen = new Set<string>();
  override afterProcessMessage(_broker: Broker, message: MessageProxy): void {
    if (this.seen.has(message.messageId)) return;
    this.seen.add(message.messageId);
    void holdAck(Promise.reject(new ConnectionClosed("the server went away (simulated)"))).catch(
      () => undefined,
    );
  }
}

/**
 * The broker side of "a message is acked only when the work its processing required succeeded":
 * a requeued message comes back and runs again; a permanent failure dead-letters it.
 */
export function defineSettlementCases(context: SettlementCaseContext): void {
  it("retries a timed-out message only once its invocation ended: one message never runs twice at once", async () => {
    const { broker, queueName } = await context.setup(context.fastRetries());
    const spans: { start: number; end: number }[] = [];
    const stubborn = actor(
      async function stubborn() {
        const span = { start: Date.now(), end: Infinity };
        spans.push(span);
        // Ignores its abort signal.
        await new Promise((resolve) => setTimeout(resolve, 600));
        span.end = Date.now();
      },
      { broker, queueName, timeLimit: 200, maxRetries: 1, minBackoff: 0 },
    );
    const worker = await context.startWorker(broker);
    await stubborn.send();
    await waitFor(() => spans.length === 2 && spans[1]!.end < Infinity, "both invocations", 15_000);
    expect(spans[1]!.start).toBeGreaterThanOrEqual(spans[0]!.end);
    await broker.join(queueName, { timeout: 5000, failFast: false } as never);
    expect(worker.overdue).toBe(0);
  });

  if (context.requeue) {
    it("requeues a message whose required work failed for want of a connection, and runs it again", async () => {
      const { broker, queueName, logger } = await context.setup([
        ...context.fastRetries(),
        new FirstSettlementFails(),
      ]);
      const runs: string[] = [];
      const work = actor((x: string) => void runs.push(x), {
        broker,
        queueName,
        actorName: "requeued",
      });
      await context.startWorker(broker);
      const message = await work.send("once more");
      await waitFor(() => runs.length === 2, "the requeued message to run again");
      await broker.join(queueName, { timeout: 5000 });
      expect(runs).toEqual(["once more", "once more"]);
      expect(logger.lines).toContainEqual(
        expect.stringContaining(`error Requeuing message ${message.messageId}`),
      );
      if (context.deadLetterIds) expect(await context.deadLetterIds(broker, queueName)).toEqual([]);
    });
  }

  const deadLetterIds = context.deadLetterIds;
  if (deadLetterIds) {
    it("dead-letters a message whose retry cannot be enqueued, with the reason, instead of acking it", async () => {
      const { broker, queueName, logger } = await context.setup(context.fastRetries());
      const work = actor(
        function badRetry() {
          throw new Retry({ delay: -1 });
        },
        { broker, queueName },
      );
      await context.startWorker(broker);
      const message = await work.send();
      await waitFor(
        async () => (await deadLetterIds(broker, queueName)).includes(message.messageId),
        "the dead letter",
      );
      expect(logger.lines).toContainEqual(
        expect.stringMatching(
          new RegExp(`^error Dead-lettering message ${message.messageId} .*invalid delay -1`),
        ),
      );
    });
  }
}
