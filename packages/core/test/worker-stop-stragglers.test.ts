import { describe, expect, it } from "@jest/globals";
import { actor, StubBroker, Worker } from "../src/index.js";

describe("Worker.stop", () => {
  // A consumer's pending next() can be woken by the requeue that stop() itself issues; the
  // message it then delivers must still go back to the broker, not stay held by a dead loop.
  it("returns every message even when a pending fetch is woken during shutdown", async () => {
    const broker = new StubBroker();
    const done: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = actor(
      async function slowStraggler(x: number) {
        if (x === 0) await gate;
        done.push(x);
      },
      { broker },
    );
    const first = new Worker(broker, { concurrency: 1, queuePrefetch: 2, workerTimeout: 60_000 });
    await first.start();
    for (let i = 0; i < 5; i++) await slow.send(i);
    while (first.activeCount === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await first.stop({ timeout: 50 });
    release();
    const second = new Worker(broker, { concurrency: 2, workerTimeout: 50 });
    await second.start();
    await broker.join("default", { timeout: 5000 });
    await second.join();
    await second.stop();
    expect(new Set(done)).toEqual(new Set([0, 1, 2, 3, 4]));
  });
});
