import { describe, expect, it } from "@jest/globals";
import { buildTable, formatRatio, metricsFor, renderTable } from "../src/table.js";

describe("buildTable", () => {
  const metrics = metricsFor(["B1", "B3"], [8]);
  const cell = (median: number) => ({ median, runs: [median] });

  it("has a row per metric with dq, the peers and the ratios dq/peer", () => {
    const table = buildTable(
      { dq: { B1: cell(3000) }, bullmq: { B1: cell(1500) }, "bee-queue": { B1: cell(6000) } },
      metrics,
    );
    expect(table.columns).toEqual([
      "case",
      "unit",
      "dq",
      "BullMQ",
      "bee-queue",
      "dq/BullMQ",
      "dq/bee-queue",
    ]);
    expect(table.rows[0]).toEqual([
      "B1 enqueue, one at a time",
      "jobs/s",
      "3,000",
      "1,500",
      "6,000",
      "2.00×",
      "0.50×",
    ]);
    expect(table.rows.map((row) => row[0])).toEqual([
      "B1 enqueue, one at a time",
      "B3 round trip p50",
      "B3 round trip p99",
      "B3 worker peak RSS",
    ]);
    expect(table.rows[1]!.slice(2)).toEqual(["–", "–", "–", "–", "–"]);
  });

  it("adds dq on RabbitMQ as extra rows against the same peers", () => {
    const table = buildTable(
      { "dq-rabbitmq": { "B3 p50": cell(2) }, bullmq: { "B3 p50": cell(4) } },
      metrics,
    );
    const row = table.rows.find((r) => r[0] === "B3 round trip p50 [dq on RabbitMQ]");
    expect(row).toEqual([
      "B3 round trip p50 [dq on RabbitMQ]",
      "ms",
      "2.00",
      "4.00",
      "–",
      "0.50×",
      "–",
    ]);
  });

  it("adds the bare-client floor as rows of its own, after dq's", () => {
    const table = buildTable(
      {
        dq: { "B3 p50": cell(0.8) },
        "redis-floor": { "B3 p50": cell(0.5) },
        bullmq: { "B3 p50": cell(1.6) },
      },
      metrics,
    );
    expect(table.rows.map((r) => r[0])).toContain("B3 round trip p50");
    const row = table.rows.find(
      (r) => r[0] === "B3 round trip p50 [floor: bare ioredis list, no queue code]",
    );
    expect(row).toEqual([
      "B3 round trip p50 [floor: bare ioredis list, no queue code]",
      "ms",
      "0.50",
      "1.60",
      "–",
      "0.31×",
      "–",
    ]);
    expect(table.rows.indexOf(row!)).toBeGreaterThan(
      table.rows.findIndex((r) => r[0] === "B3 round trip p50"),
    );
  });

  it("renders aligned Markdown", () => {
    const lines = renderTable(buildTable({}, metricsFor(["B1b"], []))).split("\n");
    expect(lines).toHaveLength(3);
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
    expect(formatRatio(1, 0)).toBe("–");
  });
});
