export { loadWireFixture as loadFixture } from "@dq/test-suite";

export interface MemcachedResultsFixture {
  entries: { key: string; message: unknown; raw: string }[];
}

