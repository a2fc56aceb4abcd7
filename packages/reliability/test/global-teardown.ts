// Collects the rows the scenarios wrote, writes results/table.md and prints the table. Runs in
// jest's main process after every test file, where stdout is the terminal or CI log (the tests'
// own console is not used: the project treats console output in tests as a bug).
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
// Type-only: jest loads this file outside its module mapper, so it imports no sources at run time.
import type { Row } from "../src/table.js";

const HEADER = [
  "scenario",
  "broker",
  "sent",
  "processed",
  "duplicates",
  "dead-lettered",
  "lost",
  "s",
  "notes",
];

/** The rows as a Markdown table. */
function formatTable(rows: readonly Row[]): string {
  const escape = (text: string) => text.replace(/\|/g, "\\|");
  const lines = [
    `| ${HEADER.join(" | ")} |`,
    `| ${HEADER.map((_, index) => (index >= 2 && index <= 7 ? "---:" : "---")).join(" | ")} |`,
  ];
  for (const row of rows) {
    const cells = [
      row.scenario,
      row.broker,
      row.sent,
      row.processed,
      row.duplicates,
      row.deadLettered,
      row.lost,
      row.seconds.toFixed(1),
      row.notes,
    ];
    lines.push(`| ${cells.map((cell) => escape(String(cell))).join(" | ")} |`);
  }
  return `${lines.join("\n")}\n`;
}

export default function globalTeardown(): void {
  const results = path.join(__dirname, "..", "results");
  const rowsDir = path.join(results, "rows");
  if (!existsSync(rowsDir)) return;
  const rows = readdirSync(rowsDir)
    .filter((file) => file.endsWith(".json"))
    .sort()
    .map((file) => JSON.parse(readFileSync(path.join(rowsDir, file), "utf8")) as Row);
  if (rows.length === 0) return;
  const table = formatTable(rows);
  const lost = rows.filter((row) => row.lost > 0).length;
  const text = `\nReliability table (${new Date().toISOString()}; ${rows.length} rows, ${lost} with losses):\n\n${table}\n`;
  writeFileSync(path.join(results, "table.md"), text);
  process.stdout.write(text);
}
