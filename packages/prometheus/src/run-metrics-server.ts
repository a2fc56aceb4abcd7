import type { MetricsServer } from "./metrics-server.js";
import { startMetricsServer } from "./metrics-server.js";
import { pythonBucketBounds } from "./exposition-format.js";
import { RunCollector } from "./multiprocess.js";

/**
 * Serves the summed metrics of the run directory on `/metrics`, and on `/processes` the live
 * processes read (JSON: pid, last write, messages processed).
 * @throws MetricsServerError when the port is in use
 */
export async function startRunMetricsServer(options: {
  host: string;
  port: number;
  dbDirectory: string;
}): Promise<MetricsServer> {
  if (!options.dbDirectory) throw new Error("no run directory to read the metrics from");
  const collector = new RunCollector(options.dbDirectory);
  return startMetricsServer(options.host, options.port, {
    "/metrics": async () => {
      const { registry } = await collector.collect();
      return {
        contentType: registry.contentType,
        body: pythonBucketBounds(await registry.metrics()),
      };
    },
    "/processes": async () => {
      const { processes } = await collector.collect();
      return { contentType: "application/json", body: `${JSON.stringify(processes)}\n` };
    },
  });
}
