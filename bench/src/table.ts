import type { SystemId } from "./args.js";

/** One row kind of the table. */
export interface Metric {
  key: string;
  label: string;
  unit: "jobs/s" | "ms" | "MB";
}

/** The median and the individual runs of one metric for one system. */
export interface Cell {
  median: number;
  runs: number[];
}

/** Results by system, then by metric key. */
export type Results = Partial<Record<SystemId, Record<string, Cell>>>;

export interface Table {
  columns: string[];
  rows: string[][];
}

/** The rows, in order, for the cases and concurrencies that ran. */
export function metricsFor(cases: readonly string[], concurrency: readonly number[]): Metric[] {
  const metrics: Metric[] = [];
  if (cases.includes("B1"))
    metrics.push({ key: "B1", label: "B1 enqueue, one at a time", unit: "jobs/s" });
  if (cases.includes("B1b"))
    metrics.push({ key: "B1b", label: "B1b enqueue, bulk", unit: "jobs/s" });
  if (cases.includes("B2")) {
    for (const c of concurrency)
      metrics.push({ key: `B2 c${c}`, label: `B2 drain, concurrency ${c}`, unit: "jobs/s" });
    for (const c of concurrency)
      metrics.push({ key: `B2 c${c} rss`, label: `B2 worker peak RSS, c${c}`, unit: "MB" });
  }
  if (cases.includes("B3")) {
    metrics.push({ key: "B3 p50", label: "B3 round trip p50", unit: "ms" });
    metrics.push({ key: "B3 p99", label: "B3 round trip p99", unit: "ms" });
    metrics.push({ key: "B3 rss", label: "B3 worker peak RSS", unit: "MB" });
  }
  return metrics;
}

/** A number as the table shows it: thousands separators for rates, 2 decimals for ms, 1 for MB. */
export function formatValue(value: number | undefined, unit: Metric["unit"]): string {
  if (value === undefined || !Number.isFinite(value)) return "–";
  if (unit === "jobs/s") return Math.round(value).toLocaleString("en-US");
  return value.toFixed(unit === "ms" ? 2 : 1);
}

/** dq divided by a peer, as "1.52×"; "–" when either is missing. */
export function formatRatio(dq: number | undefined, peer: number | undefined): string {
  if (
    dq === undefined ||
    peer === undefined ||
    !Number.isFinite(dq) ||
    !Number.isFinite(peer) ||
    peer === 0
  )
    return "–";
  return `${(dq / peer).toFixed(2)}×`;
}

const DQ_VARIANTS: { id: SystemId; suffix: string }[] = [
  { id: "dq", suffix: "" },
  { id: "dq-rabbitmq", suffix: " [dq on RabbitMQ]" },
  { id: "dq-rabbitmq-confirm", suffix: " [dq on RabbitMQ, confirms]" },
  { id: "dq-otel", suffix: " [dq + OpenTelemetry, no SDK]" },
  // Not dq: the bare clients' floors, in the dq column so that their ratios read like dq's.
  { id: "redis-floor", suffix: " [floor: bare ioredis list, no queue code]" },
  { id: "rabbitmq-floor", suffix: " [floor: bare amqplib, no queue code]" },
];

/**
 * One table: a row per metric with dq, BullMQ, bee-queue and the ratios dq/BullMQ and
 * dq/bee-queue; dq on RabbitMQ and the floors (redis-floor, rabbitmq-floor) add their own rows (in the dq column,
 * against the same peers).
 */
export function buildTable(results: Results, metrics: readonly Metric[]): Table {
  const columns = ["case", "unit", "dq", "BullMQ", "bee-queue", "dq/BullMQ", "dq/bee-queue"];
  const rows: string[][] = [];
  for (const variant of DQ_VARIANTS) {
    const dq = results[variant.id];
    if (!dq && variant.id !== "dq") continue;
    for (const metric of metrics) {
      const mine = dq?.[metric.key]?.median;
      // Another system's rows are those it measured (the floors take part in B1 and/or B3 only).
      if (variant.id !== "dq" && mine === undefined) continue;
      const bull = results.bullmq?.[metric.key]?.median;
      const bee = results["bee-queue"]?.[metric.key]?.median;
      rows.push([
        metric.label + variant.suffix,
        metric.unit,
        formatValue(mine, metric.unit),
        formatValue(bull, metric.unit),
        formatValue(bee, metric.unit),
        formatRatio(mine, bull),
        formatRatio(mine, bee),
      ]);
    }
  }
  return { columns, rows };
}

/** The table as aligned text (Markdown-compatible). */
export function renderTable(table: Table): string {
  const widths = table.columns.map((column, i) =>
    Math.max(column.length, ...table.rows.map((row) => row[i]!.length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((width, i) => (i < 2 ? "-".repeat(width + 2) : `${"-".repeat(width + 1)}:`)).join("|")}|`;
  return [line(table.columns), rule, ...table.rows.map(line)].join("\n");
}
