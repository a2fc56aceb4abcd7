// The entry of the exposition process the `dq` command forks once per run (`Prometheus.forks`):
// the middleware's settings arrive in this module's URL query.
import { getLogger } from "@dq/core";
import { MetricsServerError } from "./errors.js";
import { startRunMetricsServer } from "./run-metrics-server.js";
import type { MetricsServer } from "./metrics-server.js";

/**
 * Serves the totals of every worker process of the run. Called by the `dq` fork process.
 * @returns the server; or 0 when it cannot listen (port in use): one WARN is logged, the fork
 *   process finishes with exit code 0 and is not restarted, the workers run on without it
 */
export async function serveRunMetrics(): Promise<MetricsServer | 0> {
  const query = new URL(import.meta.url).searchParams;
  let server: MetricsServer;
  try {
    server = await startRunMetricsServer({
      host: query.get("host") ?? "127.0.0.1",
      port: Number(query.get("port") ?? 9191),
      dbDirectory: query.get("db") ?? "",
    });
  } catch (error) {
    if (!MetricsServerError.isInstance(error)) throw error;
    getLogger("dq.Prometheus").warn(`${(error as Error).message}. This run serves no metrics.`);
    return 0;
  }
  getLogger("dq.Prometheus").info(
    `Serving the run's Prometheus metrics on http://${server.host}:${server.port}/metrics (from ${query.get("db")}).`,
  );
  return server;
}
