import { defaultMiddleware } from "@dq/core";
import { RedisBroker } from "@dq/broker-redis";
import { OpenTelemetry } from "@dq/opentelemetry";
import { deletePrefix } from "../redis-util.js";
import { dqProducer, dqWorker } from "./dq-redis.js";
import type { Scope, SystemDriver } from "./system.js";

const QUEUE = "bench";

// The default middleware plus `OpenTelemetry` with no SDK registered (the API's no-op providers):
// what the middleware costs a service that installs it and does not export telemetry.
const broker = (scope: Scope) =>
  new RedisBroker({
    url: scope.redisUrl,
    namespace: scope.prefix,
    middleware: [...defaultMiddleware(), new OpenTelemetry()],
  });

/** dq on Redis with the `OpenTelemetry` middleware installed and no SDK registered. */
export const dqOtel: SystemDriver = {
  id: "dq-otel",
  label: "dq + OpenTelemetry (no SDK)",
  server: "redis",
  async createProducer(scope) {
    return dqProducer(broker(scope), QUEUE);
  },
  async startWorker(scope, concurrency, onComplete) {
    return dqWorker(broker(scope), QUEUE, concurrency, onComplete);
  },
  async cleanup(scope) {
    await deletePrefix(scope.redisUrl, scope.prefix);
  },
};
