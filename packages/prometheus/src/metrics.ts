import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Labels of every metric, as in Dramatiq. */
export const LABELS = ["queue_name", "actor_name"] as const;
type Label = (typeof LABELS)[number];

/** Dramatiq's duration buckets (ms); `+Inf` is implicit. */
export const DURATION_BUCKETS = [
  5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000, 30000, 60000, 600000,
  900000,
];

/** The metrics of the Prometheus middleware. */
export interface DramatiqMetrics {
  messages: Counter<Label>;
  errors: Counter<Label>;
  retries: Counter<Label>;
  rejects: Counter<Label>;
  inProgress: Gauge<Label>;
  /** Per process, as Python's (a gauge in prometheus_client's default multiprocess mode): labelled with `pid` too. */
  delayedInProgress: Gauge<Label | "pid">;
  duration: Histogram<Label>;
}

/**
 * Registers Dramatiq's metrics in `registry`, or returns the ones already there (a second
 * middleware on the same registry shares them instead of failing on duplicate names).
 */
export function registerMetrics(registry: Registry): DramatiqMetrics {
  const registers = [registry];
  const counter = (name: string, help: string) =>
    (registry.getSingleMetric(name) as Counter<Label> | undefined) ??
    new Counter({ name, help, labelNames: LABELS, registers });
  const gauge = <L extends string = Label>(
    name: string,
    help: string,
    labelNames: readonly L[] = LABELS as unknown as readonly L[],
  ) =>
    (registry.getSingleMetric(name) as Gauge<L> | undefined) ??
    new Gauge<L>({ name, help, labelNames, registers, aggregator: "sum" });
  const durationName = "dramatiq_message_duration_milliseconds";
  return {
    messages: counter("dramatiq_messages_total", "The total number of messages processed."),
    errors: counter("dramatiq_message_errors_total", "The total number of errored messages."),
    retries: counter("dramatiq_message_retries_total", "The total number of retried messages."),
    rejects: counter(
      "dramatiq_message_rejects_total",
      "The total number of dead-lettered messages.",
    ),
    inProgress: gauge("dramatiq_messages_inprogress", "The number of messages in progress."),
    delayedInProgress: gauge(
      "dramatiq_delayed_messages_inprogress",
      "The number of delayed messages in memory.",
      [...LABELS, "pid"],
    ),
    duration:
      (registry.getSingleMetric(durationName) as Histogram<Label> | undefined) ??
      new Histogram({
        name: durationName,
        help: "The time spent processing messages.",
        labelNames: LABELS,
        buckets: DURATION_BUCKETS,
        registers,
      }),
  };
}
