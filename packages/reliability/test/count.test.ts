// The arithmetic of the table: exact duplicates and losses by message id.
import { describe, expect, it } from "@jest/globals";
import { count } from "../src/table.js";

describe("count", () => {
  it("counts processed, duplicates, dead letters and lost by id", () => {
    const counts = count({
      sent: ["a", "b", "c", "d", "e"],
      done: ["a", "b", "b", "x"],
      attempts: ["c:0", "c:1", "c:1"],
      dead: ["c"],
    });
    expect(counts).toMatchObject({
      sent: 5,
      processed: 2,
      duplicates: 2,
      deadLettered: 1,
      lost: 2,
      unexpected: 1,
    });
    expect(counts.lostIds).toEqual(["d", "e"]);
  });

  it("counts a processed message without its stored result as lost when results are required", () => {
    const counts = count({
      sent: ["a", "b"],
      done: ["a", "b"],
      attempts: [],
      dead: [],
      results: new Set(["a"]),
    });
    expect(counts.lostIds).toEqual(["b"]);
  });
});
