// The entry of the exposition process the `dq` command forks once per run (`Prometheus.forks`):
// the middleware's settings arrive in this module's URL query.
import { getLogger } from "@dq/core";
import { startRunMetricsServer } from "./run-metrics-server.js";
import type { MetricsServer } from "./metrics-server.js";

/**
 * Serves the totals of every worker process of the run. Called by the `dq` fork process.
 * @throws MetricsServerError when the port is in use (the fork process logs it and exits)
 */
export async function serveRunMetrics(): Promise<MetricsServer> {
  const query = new URL(import.meta.url).searchParams;
  const server = await startRunMetricsServer({ host: query.get("host") ?? "0.0.0.0", port: Number(query.get("port") ?? 9191), dbDirectory: query.get("db") ?? "" });
  getLogger("dq.Prometheus").info(`Serving the run's Prometheus metrics on http://${server.host}:${server.port}/metrics (from ${query.get("db")}).`);
  return server;
}
