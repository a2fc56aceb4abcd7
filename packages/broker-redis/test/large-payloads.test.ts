import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "@jest/globals";
import { deleteNamespaces, describeWithRedis, redisUrl, uniqueNamespace } from "./helpers.js";

const run = promisify(execFile);
const namespaces = new Set<string>();

interface Usage {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

const MB = 1024 * 1024;

// Issue 17 item 6: a worker held ~1 GB after two 20 MB payloads. ioredis's reply parser copies a
// bulk reply that spans socket reads into a module-wide pool three times its size and never frees
// it (a 20 MB message kept 63 MB of ArrayBuffers; 60 MB kept 189 MB). Measured in a child process
// (`node --expose-gc`, from the built packages) after GC.
describeWithRedis("RedisBroker memory after large payloads", () => {
  afterAll(() => deleteNamespaces(namespaces));

  it("returns near its baseline after processing two 20 MB messages", async () => {
    const namespace = uniqueNamespace();
    namespaces.add(namespace);
    const { stdout } = await run(
      process.execPath,
      ["--expose-gc", path.join(__dirname, "fixtures", "large-payloads.mjs")],
      {
        env: {
          ...process.env,
          REDIS_URL: redisUrl,
          DQ_TEST_NAMESPACE: namespace,
          DQ_TEST_PAYLOAD_MB: "20",
        },
        timeout: 90_000,
      },
    );
    const { baseline, after } = JSON.parse(stdout.trim().split("\n").pop()!) as {
      baseline: Usage;
      after: Usage;
    };
    const growth = (key: keyof Usage) => (after[key] - baseline[key]) / MB;
    process.stdout.write(
      `after two 20 MB messages (MB over baseline): arrayBuffers ${growth("arrayBuffers").toFixed(1)}, ` +
        `heapUsed ${growth("heapUsed").toFixed(1)}, rss ${growth("rss").toFixed(1)}\n`,
    );
    expect(growth("arrayBuffers")).toBeLessThan(20);
    expect(growth("heapUsed")).toBeLessThan(50);
  }, 120_000);
});
