import { describe, expect, it } from "@jest/globals";
import { parseArgs } from "../src/args.js";

const parse = (...argv: string[]) => parseArgs(argv, {}, "/tmp/out.json");

describe("parseArgs", () => {
  it("defaults to every case and system, 20 000 jobs, 3 runs, one bulk call", () => {
    const options = parse();
    expect(options).toMatchObject({
      cases: ["B1", "B1b", "B2", "B3"],
      jobs: 20_000,
      batch: 20_000,
      runs: 3,
      latencyJobs: 500,
      concurrency: [1, 8, 64],
    });
    expect(options.systemsExplicit).toBe(false);
  });

  it("takes the quick-run flags, with or without =", () => {
    const options = parse(
      "--",
      "--cases",
      "B1,B2",
      "--systems=dq,bullmq",
      "--jobs",
      "2000",
      "--runs=1",
      "--concurrency",
      "8",
    );
    expect(options).toMatchObject({
      cases: ["B1", "B2"],
      systems: ["dq", "bullmq"],
      systemsExplicit: true,
      jobs: 2000,
      batch: 2000,
      runs: 1,
      concurrency: [8],
    });
  });

  it("makes --smoke small unless told otherwise", () => {
    expect(parse("--smoke")).toMatchObject({ smoke: true, jobs: 200, latencyJobs: 50, runs: 1 });
    expect(parse("--smoke", "--jobs", "300")).toMatchObject({ jobs: 300, runs: 1 });
  });

  it("names the flag and the value it rejects", () => {
    expect(() => parse("--cases", "B9")).toThrow(/--cases: unknown "B9"/);
    expect(() => parse("--jobs", "0")).toThrow(/--jobs takes an integer >= 1, got "0"/);
    expect(() => parse("--fast")).toThrow(/unknown flag "--fast"/);
  });
});
