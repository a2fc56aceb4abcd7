export { Prometheus } from "./prometheus.js";
export { MetricsServerError } from "./errors.js";
export { DURATION_BUCKETS, LABELS, registerMetrics } from "./metrics.js";
export { startMetricsServer } from "./metrics-server.js";
export { startRunMetricsServer } from "./run-metrics-server.js";
export { RunCollector, SnapshotWriter } from "./multiprocess.js";
export { resolveSettings } from "./settings.js";

export type { PrometheusOptions } from "./prometheus.js";
export type { DramatiqMetrics } from "./metrics.js";
export type { MetricsServer, RouteResponse } from "./metrics-server.js";
export type { MetricsJson, ProcessSnapshot, ProcessSummary } from "./multiprocess.js";
export type { ServerSettings } from "./settings.js";
