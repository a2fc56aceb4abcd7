import { readFileSync } from "node:fs";
import path from "node:path";

/** The recordings of Python Dramatiq in shared/ beside the repository. */
export const fixturesDir = process.env.DQ_FIXTURES_DIR ?? path.resolve(__dirname, "../../../../shared/fixtures/dramatiq-wire");

export interface MemcachedResultsFixture {
  entries: { key: string; message: unknown; raw: string }[];
}

export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(fixturesDir, name), "utf8")) as T;
}
