import { describe, expect, it } from "@jest/globals";
import { Deadlines } from "../src/adapter.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Deadlines", () => {
  it("calls onDue for each key still set once its deadline passes, not before", async () => {
    const due: [string, number][] = [];
    const started = performance.now();
    const deadlines = new Deadlines<string>((key) => due.push([key, performance.now() - started]));
    deadlines.set("late", 120);
    deadlines.set("early", 40);
    deadlines.set("gone", 60);
    deadlines.delete("gone");
    await sleep(300);
    expect(due.map(([key]) => key)).toEqual(["early", "late"]);
    expect(due[0]![1]).toBeGreaterThanOrEqual(39);
    expect(due[1]![1]).toBeGreaterThanOrEqual(119);
    expect(deadlines.size).toBe(0);
  });

  it("serves a later deadline after an earlier one was met early (the timer outlives it)", async () => {
    const due: number[] = [];
    const deadlines = new Deadlines<() => void>((end) => end());
    const started = performance.now();
    const first = () => due.push(-1);
    deadlines.set(first, 30);
    deadlines.delete(first);
    await new Promise<void>((resolve) =>
      deadlines.set(() => (due.push(performance.now() - started), resolve()), 150),
    );
    expect(due).toHaveLength(1);
    expect(due[0]).toBeGreaterThanOrEqual(149);
  });

  it("hands back every key with take, and cancel drops them all", async () => {
    const due: string[] = [];
    const deadlines = new Deadlines<string>((key) => due.push(key));
    deadlines.set("a", 20);
    deadlines.set("b", 20);
    expect(deadlines.take()).toEqual(["a", "b"]);
    deadlines.set("c", 20);
    deadlines.cancel();
    await sleep(80);
    expect(due).toEqual([]);
  });

  it("waits out deadlines longer than Node's largest timeout instead of firing at once", async () => {
    const due: string[] = [];
    const deadlines = new Deadlines<string>((key) => due.push(key), true);
    deadlines.set("far", 2 ** 32);
    await sleep(50);
    expect(due).toEqual([]);
    deadlines.cancel();
  });

  it("calls the due keys in deadline order when the timer fires late", () => {
    const due: string[] = [];
    const deadlines = new Deadlines<string>((key) => due.push(key));
    deadlines.set("late", 30);
    deadlines.set("early", 10);
    // Block the event loop past both deadlines: the one timer then finds both due.
    const until = performance.now() + 60;
    while (performance.now() < until);
    return sleep(20).then(() => expect(due).toEqual(["early", "late"]));
  });
});
