import { expect, it } from "@jest/globals";
import {
  actor,
  ConnectionClosed,
  defaultMiddleware,
  group,
  Retries,
  StubBroker,
  Worker,
  type Message,
} from "@dq/core";
import { GroupCallbacks, StubRateLimiterBackend } from "../src/index.js";

/** A StubBroker whose first `failures` publishes of completion callbacks fail as if the server were away. */
class CallbackOutage extends StubBroker {
  failures = 2;
  protected override publish(messages: readonly Message[]): Promise<void> {
    if (
      this.failures > 0 &&
      messages.some((message) => message.actorName === "group_done_requeue")
    ) {
      this.failures--;
      return Promise.reject(new ConnectionClosed("lost the connection (simulated)"));
    }
    return super.publish(messages);
  }
}

it("fires a group's completion callback whose enqueue failed: the last child is requeued, not acked", async () => {
  const backend = new StubRateLimiterBackend();
  const middleware = [
    ...defaultMiddleware().filter((m) => !(m instanceof Retries)),
    new Retries({ maxRetries: 0 }),
    new GroupCallbacks(backend),
  ];
  const broker = new CallbackOutage({ middleware });
  const processed: number[] = [];
  const fired: string[] = [];
  const child = actor((id: number) => void processed.push(id), {
    broker,
    actorName: "group_child_requeue",
  });
  const done = actor((label: string) => void fired.push(label), {
    broker,
    actorName: "group_done_requeue",
  });
  const worker = new Worker(broker, {
    concurrency: 1,
    workerTimeout: 20,
    enqueueRetry: { attempts: 1 },
  });
  await worker.start();
  try {
    await group([child.message(1), child.message(2), child.message(3)], { broker })
      .addCompletionCallback(done.message("all done"))
      .run();
    await broker.join("default", { timeout: 10_000 });
    await broker.join("default", { timeout: 10_000 });
    expect(fired).toEqual(["all done"]);
    expect(broker.failures).toBe(0);
    // At least once: the last child ran again for each failed enqueue of the callback.
    expect(processed.length).toBe(5);
    expect(new Set(processed)).toEqual(new Set([1, 2, 3]));
  } finally {
    await worker.stop({ timeout: 5000 });
    await backend.close();
  }
});
