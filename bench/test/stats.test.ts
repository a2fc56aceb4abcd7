import { describe, expect, it } from "@jest/globals";
import { median, percentile, rate } from "../src/stats.js";

describe("median", () => {
  it("takes the middle value, or the mean of the middle two", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(Number.isNaN(median([]))).toBe(true);
  });
});

describe("percentile", () => {
  it("uses the nearest rank", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 0)).toBe(7);
  });

  it("rejects a percentile outside 0..100", () => {
    expect(() => percentile([1], 101)).toThrow(/not within 0..100/);
  });
});

describe("rate", () => {
  it("is jobs per second, NaN for an empty span", () => {
    expect(rate(500, 250)).toBe(2000);
    expect(Number.isNaN(rate(1, 0))).toBe(true);
  });
});
