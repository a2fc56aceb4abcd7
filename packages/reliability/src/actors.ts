import { actor, CurrentMessage, Results, Retry, type Actor, type Broker } from "@dq/core";
import { RabbitmqBroker } from "@dq/broker-rabbitmq";
import { RedisBroker } from "@dq/broker-redis";
import { RedisResultBackend } from "@dq/results-redis";
import { Redis } from "ioredis";
import { setTimeout as sleep } from "node:timers/promises";
import { ledgerKeys, type ActorKind, type BrokerConfig, type ScenarioConfig } from "./config.js";

/** Builds the broker a scenario names (with `CurrentMessage`, and `Results` when asked). */
export function buildBroker(config: BrokerConfig, resultsUrl?: string): Broker {
  const broker =
    config.kind === "redis"
      ? new RedisBroker({
          url: config.url,
          namespace: config.namespace,
          heartbeatTimeout: config.heartbeatTimeout,
          maintenanceChance: config.maintenanceChance,
        })
      : new RabbitmqBroker({ url: config.url, confirmDelivery: config.confirmDelivery ?? false });
  broker.addMiddleware(new CurrentMessage());
  if (resultsUrl)
    broker.addMiddleware(new Results({ backend: new RedisResultBackend({ url: resultsUrl }) }));
  return broker;
}

/** What `declareActors` returns: the actors by kind, and the ledger client to close. */
export interface DeclaredActors {
  actors: Record<ActorKind, Actor<[number], unknown>>;
  ledger: Redis;
}

/** The id and retry count of the message running in this async context. */
function current(): { id: string; retries: number } {
  const message = CurrentMessage.getCurrentMessage();
  if (!message) throw new Error("an actor of the reliability suite ran outside a worker");
  const retries = typeof message.options.retries === "number" ? message.options.retries : 0;
  return { id: message.messageId, retries };
}

/**
 * Declares the suite's actors on `broker`, on the scenario's queue. Each records in the ledger
 * (a Redis that is never restarted) before it returns, so that the test counts exactly what ran:
 * - `ok`: records the id (stores its result when the scenario has a result backend);
 * - `slow`: sleeps `slowMs`, then records the id;
 * - `fail`: records `id:retries`, works `failMs`, and throws (maxRetries 2, backoff 200–1000 ms);
 * - `badRetry`: records `id:retries` and throws `new Retry({ delay: -1 })`;
 * - `poison`: records `id:retries`, then blocks the event loop forever (`while (true)`; time limit 1 s).
 */
export function declareActors(broker: Broker, config: ScenarioConfig): DeclaredActors {
  const ledger = new Redis(config.ledgerUrl, { maxRetriesPerRequest: null });
  const keys = ledgerKeys(config.ledgerPrefix);
  const queueName = config.queue;
  const slowMs = config.slowMs ?? 20;
  const failMs = config.failMs ?? 200;
  const common = { broker, queueName };
  const done = async () => {
    await ledger.rpush(keys.done, current().id);
  };
  const attempt = async () => {
    const { id, retries } = current();
    await ledger.rpush(keys.attempts, `${id}:${retries}`);
  };
  const actors: Record<ActorKind, Actor<[number], unknown>> = {
    ok: actor(
      async (index: number) => {
        await done();
        return index;
      },
      { ...common, actorName: "rel_ok", ...(config.resultsUrl ? { storeResults: true } : {}) },
    ),
    slow: actor(
      async (_index: number) => {
        await sleep(slowMs);
        await done();
      },
      { ...common, actorName: "rel_slow" },
    ),
    fail: actor(
      async (index: number) => {
        await attempt();
        await sleep(failMs);
        throw new Error(`rel_fail ${index} fails on purpose`);
      },
      { ...common, actorName: "rel_fail", maxRetries: 2, minBackoff: 200, maxBackoff: 1000 },
    ),
    badRetry: actor(
      async (_index: number) => {
        await attempt();
        throw new Retry({ delay: -1 });
      },
      { ...common, actorName: "rel_bad_retry", maxRetries: 2 },
    ),
    poison: actor(
      async (_index: number) => {
        await attempt();
        // Blocks the event loop: no AbortSignal or time limit can stop this; only the supervisor can.
        for (;;) {
          // spin
        }
      },
      { ...common, actorName: "rel_poison", timeLimit: 1000, maxRetries: 3 },
    ),
  };
  return { actors, ledger };
}
