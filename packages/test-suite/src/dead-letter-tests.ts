import { expect, it } from "@jest/globals";
import { actor, Message, type Broker } from "@dq/core";
import { waitFor } from "@dq/core/testing";
import type { SettlementCaseContext } from "./settlement-tests.js";

/** What `defineBrokerTests` hands the dead-letter cases. */
export interface DeadLetterCaseContext extends Pick<
  SettlementCaseContext,
  "setup" | "startWorker" | "fastRetries"
> {
  /** The ids of the messages in the dead-letter queue of `queueName`. */
  deadLetterIds: (broker: Broker, queueName: string) => Promise<string[]>;
  /** Enqueues raw bytes onto `queueName`, when the broker can. */
  enqueueRaw: ((broker: Broker, queueName: string, data: Buffer) => Promise<void>) | undefined;
}

/**
 * The dead-letter cases of the broker contract: exhausted retries, an unknown actor and bytes that
 * do not decode end in the dead-letter queue while the worker keeps running.
 */
export function defineDeadLetterCases(context: DeadLetterCaseContext): void {
  const { deadLetterIds } = context;
  it("dead-letters a message once its retries are exhausted", async () => {
    const { broker, queueName } = await context.setup(context.fastRetries());
    let runs = 0;
    const doomed = actor(
      function doomed() {
        runs++;
        throw new Error("always fails");
      },
      { broker, queueName, maxRetries: 2 },
    );
    await context.startWorker(broker);
    const message = await doomed.send();
    await waitFor(
      async () => (await deadLetterIds(broker, queueName)).includes(message.messageId),
      "the dead letter",
    );
    expect(runs).toBe(3);
    await broker.join(queueName, { timeout: 5000, failFast: false } as never);
  });

  it("dead-letters a message for an unknown actor and keeps running", async () => {
    const { broker, queueName } = await context.setup();
    const seen: string[] = [];
    actor((x: string) => void seen.push(x), { broker, queueName, actorName: "known" });
    await context.startWorker(broker);
    const unknown = await broker.enqueue(
      new Message({ queueName, actorName: "no_such_actor", args: [] }),
    );
    await broker.enqueue(new Message({ queueName, actorName: "known", args: ["after"] }));
    await waitFor(
      async () => (await deadLetterIds(broker, queueName)).includes(unknown.messageId),
      "the dead letter",
    );
    await waitFor(() => seen.includes("after"), "the next message");
  });

  if (context.enqueueRaw) {
    const enqueueRaw = context.enqueueRaw;
    it("dead-letters bytes that do not decode and keeps running", async () => {
      const { broker, queueName, logger } = await context.setup();
      const seen: string[] = [];
      actor((x: string) => void seen.push(x), { broker, queueName, actorName: "survivor" });
      await context.startWorker(broker);
      await enqueueRaw(broker, queueName, Buffer.from("this is not json {"));
      await enqueueRaw(
        broker,
        queueName,
        Buffer.from(
          JSON.stringify({
            queue_name: queueName,
            actor_name: "survivor",
            args: [],
            kwargs: {},
            options: {},
            extra: 1,
          }),
        ),
      );
      await broker.enqueue(
        new Message({ queueName, actorName: "survivor", args: ["still alive"] }),
      );
      await waitFor(() => seen.includes("still alive"), "the good message");
      await waitFor(
        () => logger.lines.filter((line) => line.includes("does not decode")).length === 2,
        "two decode errors logged",
      );
      expect(seen).toEqual(["still alive"]);
    });
  }
}
