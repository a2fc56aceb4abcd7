import { InvalidOptionError, type Broker } from "@dq/core";
import type { DashboardBroker, DashboardOptions } from "../options.js";
import { isRabbitmqBroker, RabbitmqSource } from "./rabbitmq.js";
import { isRedisBroker, RedisSource } from "./redis.js";
import type { Source } from "./source.js";

/** The entries of `brokers`, bare brokers wrapped. */
export function brokerEntries(options: DashboardOptions): DashboardBroker[] {
  return options.brokers.map((entry) => ("enqueue" in entry ? { broker: entry } : entry));
}

const kindOf = (broker: Broker): "redis" | "rabbitmq" => {
  if (isRedisBroker(broker)) return "redis";
  if (isRabbitmqBroker(broker)) return "rabbitmq";
  throw new InvalidOptionError(
    `invalid brokers ${broker.constructor.name}: expected a RedisBroker or a RabbitmqBroker`,
  );
};

/** The sources of the configured brokers, by id (`redis`, `rabbitmq`, `redis-2`, ...). */
export function buildSources(options: DashboardOptions): {
  sources: Map<string, Source>;
  brokers: Map<string, Broker>;
} {
  const sources = new Map<string, Source>();
  const brokers = new Map<string, Broker>();
  const entries = brokerEntries(options);
  const given = new Set(entries.map((entry) => entry.id).filter(Boolean));
  for (const entry of entries) {
    const kind = kindOf(entry.broker);
    let id = entry.id;
    if (!id) {
      id = kind;
      for (let n = 2; sources.has(id) || given.has(id); n++) id = `${kind}-${n}`;
    }
    if (sources.has(id)) {
      throw new InvalidOptionError(`invalid brokers: the id ${JSON.stringify(id)} is used twice`);
    }
    const { broker } = entry;
    let source: Source;
    if (isRedisBroker(broker)) source = new RedisSource(id, broker);
    else if (isRabbitmqBroker(broker)) source = new RabbitmqSource(id, broker, entry.managementUrl);
    else throw new InvalidOptionError(`invalid brokers: unsupported ${kind}`);
    sources.set(id, source);
    brokers.set(id, broker);
  }
  return { sources, brokers };
}
