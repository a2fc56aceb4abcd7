import type { Broker, ForkSpec, Logger, Message, MessageProxy, ProcessOutcome } from "@dq/core";
import { getLogger, Middleware } from "@dq/core";
import { canonicalQueueName } from "@dq/core/adapter";
import { Registry } from "prom-client";
import { pythonBucketBounds } from "./exposition-format.js";
import { registerMetrics, type DramatiqMetrics } from "./metrics.js";
import { startMetricsServer, type MetricsServer } from "./metrics-server.js";
import { packageDirectoryUrl } from "./module-url.js";
import { SnapshotWriter } from "./multiprocess.js";
import { resolveSettings, type ServerSettings } from "./settings.js";

/** What `Prometheus` takes; every field is optional. */
export interface PrometheusOptions {
  /** Host of the exposition server (default env `dramatiq_prom_host`, else `127.0.0.1`; Dramatiq binds `0.0.0.0`). */
  httpHost?: string;
  /** Port of the exposition server (default env `dramatiq_prom_port`, else 9191; 0 picks one). */
  httpPort?: number;
  /** Registry the metrics go to (default: a new one; pass prom-client's `register` to share yours). */
  registry?: Registry;
  /**
   * The per-run directory where worker processes leave their metrics for the exposition process
   * (default env `dramatiq_prom_db`, else `<tmpdir>/dq-prometheus-<dq supervisor pid>`).
   */
  dbDirectory?: string;
  /** How often a worker process writes its metrics to the run directory, ms (default 1000). */
  flushInterval?: number;
  /** Logger (default `getLogger("dq.Prometheus")`). */
  logger?: Logger;
}

const labelsOf = (message: { queueName: string; actorName: string }) => ({
  queue_name: canonicalQueueName(message.queueName),
  actor_name: message.actorName,
});

/**
 * Exports Dramatiq's Prometheus metrics (same names, types and `queue_name`/`actor_name` labels).
 * Under the `dq` command, every worker process writes its metrics to a per-run directory and one
 * extra process (this middleware's `forks`) serves their totals on `httpHost:httpPort`. In a
 * process of your own, call `startServer()` or serve `registry` yourself.
 */
export class Prometheus extends Middleware {
  /** The registry holding the metrics of this process. */
  readonly registry: Registry;
  /** Where the exposition server listens and the run directory. */
  readonly settings: ServerSettings;
  /** The metric objects, for tests and custom exposition. */
  readonly metrics: DramatiqMetrics;
  private readonly flushInterval: number;
  private readonly logger: Logger;
  private readonly startTimes = new Map<string, number>();
  private readonly delayed = new Map<string, ReturnType<typeof labelsOf> & { pid: string }>();
  private writer: SnapshotWriter | undefined;

  /** @throws InvalidOptionError when the port (option or `dramatiq_prom_port`) is not a port */
  constructor(options: PrometheusOptions = {}) {
    super();
    this.settings = resolveSettings(options);
    this.registry = options.registry ?? new Registry();
    this.metrics = registerMetrics(this.registry);
    this.flushInterval = options.flushInterval ?? 1000;
    this.logger = options.logger ?? getLogger("dq.Prometheus");
  }

  /** The exposition server, run once per `dq` run; its options travel in the URL's query. */
  override get forks(): readonly ForkSpec[] {
    const query = new URLSearchParams({
      host: this.settings.httpHost,
      port: String(this.settings.httpPort),
      db: this.settings.dbDirectory,
    });
    return [
      {
        module: `${packageDirectoryUrl}exposition.js?${query.toString()}`,
        exportName: "serveRunMetrics",
      },
    ];
  }

  /** Under `dq` (or any process that emits `processBoot`): start writing to the run directory. */
  override afterProcessBoot(): void {
    if (this.writer) return;
    this.writer = new SnapshotWriter(
      this.settings.dbDirectory,
      this.registry,
      this.flushInterval,
      (error) =>
        this.logger.warn(
          `Could not write the metrics of process ${process.pid} to ${this.settings.dbDirectory}.`,
          error,
        ),
    );
    this.writer.start();
  }

  override async afterWorkerShutdown(): Promise<void> {
    // Delayed messages held in memory went back to the broker.
    this.delayed.clear();
    this.metrics.delayedInProgress.reset();
    await this.writer?.write();
  }

  /** Stops writing to the run directory, after a last write. */
  async stopWriting(): Promise<void> {
    await this.writer?.stop();
    this.writer = undefined;
  }

  override afterNack(_broker: Broker, message: MessageProxy): void {
    this.metrics.rejects.inc(labelsOf(message));
  }

  override afterEnqueue(_broker: Broker, message: Message, _delay: number | undefined): void {
    const held = this.delayed.get(message.messageId);
    if (held) {
      // The worker re-enqueues a delayed message that came due: it is no longer in memory, and
      // this enqueue is not a new retry (Dramatiq counts it again and never lowers the gauge).
      this.delayed.delete(message.messageId);
      this.metrics.delayedInProgress.dec(held);
      return;
    }
    if ("retries" in message.options) this.metrics.retries.inc(labelsOf(message));
  }

  override beforeDelayMessage(_broker: Broker, message: MessageProxy): void {
    // Python's delayed gauge is per process: prometheus_client labels its samples with the pid.
    const labels = { ...labelsOf(message), pid: String(process.pid) };
    this.delayed.set(message.messageId, labels);
    this.metrics.delayedInProgress.inc(labels);
  }

  override beforeProcessMessage(_broker: Broker, message: MessageProxy): void {
    this.metrics.inProgress.inc(labelsOf(message));
    this.startTimes.set(message.messageId, performance.now());
  }

  override afterProcessMessage(
    _broker: Broker,
    message: MessageProxy,
    outcome: ProcessOutcome = {},
  ): void {
    const labels = labelsOf(message);
    const started = this.startTimes.get(message.messageId);
    this.startTimes.delete(message.messageId);
    this.metrics.duration.observe(labels, started === undefined ? 0 : performance.now() - started);
    this.metrics.inProgress.dec(labels);
    this.metrics.messages.inc(labels);
    if (outcome.exception !== undefined) this.metrics.errors.inc(labels);
  }

  override afterSkipMessage(broker: Broker, message: MessageProxy): void {
    this.afterProcessMessage(broker, message);
  }

  /**
   * Serves this process's metrics over HTTP (`/metrics`), for a worker you run yourself rather
   * than through `dq`.
   * @param options - host and port (default: the middleware's settings)
   * @throws MetricsServerError when the port is in use
   */
  startServer(options: { host?: string; port?: number } = {}): Promise<MetricsServer> {
    return startMetricsServer(
      options.host ?? this.settings.httpHost,
      options.port ?? this.settings.httpPort,
      {
        "/metrics": async () => ({
          contentType: this.registry.contentType,
          body: pythonBucketBounds(await this.registry.metrics()),
        }),
      },
    );
  }
}
