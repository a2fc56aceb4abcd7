import { describe, expect, it } from "@jest/globals";
import { actor, StubBroker, Worker } from "../src/index.js";

describe("smoke", () => {
  it("processes messages", async () => {
    const broker = new StubBroker();
    const seen: number[] = [];
    const add = actor(function add(x: number, y: number) { seen.push(x + y); return x + y; }, { broker });
    const worker = new Worker(broker, { workerTimeout: 50 });
    await worker.start();
    for (let i = 0; i < 10; i++) await add.send(i, 1);
    await broker.join("default");
    await worker.join();
    await worker.stop();
    expect(seen.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
