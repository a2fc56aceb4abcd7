// Clears the rows of the previous run: the table printed at the end is this run's.
import { rmSync } from "node:fs";
import path from "node:path";

export default function globalSetup(): void {
  rmSync(path.join(__dirname, "..", "results", "rows"), { recursive: true, force: true });
}
