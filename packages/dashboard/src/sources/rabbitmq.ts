import { maskUrl } from "@dq/core/adapter";
import type { Channel, ChannelModel, ConfirmChannel, GetMessage, Options } from "amqplib";
import { badRequest } from "../http.js";
import { decodeStored } from "../message-view.js";
import {
  ManagementApi,
  managementUrlFor,
  vhostOf,
  type ManagedQueue,
} from "./rabbitmq-management.js";
import type {
  MessagePage,
  MessageState,
  QueueCounts,
  RatePoint,
  Source,
  StoredMessage,
  WorkerInfo,
} from "./source.js";

/** What the RabbitMQ source needs of a RabbitmqBroker (structural: no dependency on the adapter). */
export interface RabbitmqBrokerLike {
  readonly urls: readonly string[];
  readonly queues: ReadonlySet<string>;
  readonly publisherLink: { get(): Promise<ChannelModel> };
}

/** Whether a broker is a RabbitmqBroker. */
export function isRabbitmqBroker(broker: object): broker is RabbitmqBrokerLike {
  const candidate = broker as Partial<RabbitmqBrokerLike>;
  return Array.isArray(candidate.urls) && typeof candidate.publisherLink?.get === "function";
}

/** When a dead letter died (ms): the `time` of its first `x-death` record (AMQP seconds). */
function deathTime(got: GetMessage): number | undefined {
  const headers = got.properties.headers;
  const deaths = headers?.["x-death"];
  const time = Array.isArray(deaths)
    ? (deaths[0] as { time?: unknown } | undefined)?.time
    : undefined;
  const seconds =
    typeof time === "number" ? time : (time as { value?: unknown } | undefined)?.value;
  return typeof seconds === "number" ? seconds * 1000 : undefined;
}

/** How deep `basic.get` peeks into a queue (messages held, then requeued). */
export const MAX_PEEK = 2000;
/** How long queue lists and rates are reused (ms): the management API aggregates every 5 s. */
const CACHE_TTL = 5000;

const suffix: Record<MessageState, string> = { ready: "", delayed: ".DQ", dead: ".XQ" };

/**
 * Reads counts, rates and consumers from the management HTTP API; peeks with `basic.get` and
 * requeues (bounded by the page); moves messages by publishing, then acking.
 */
export class RabbitmqSource implements Source {
  readonly kind = "rabbitmq" as const;
  readonly url: string;
  private readonly api: ManagementApi;
  private channelTurn: Promise<unknown> = Promise.resolve();
  private listed: { at: number; queues: Promise<ManagedQueue[]> } | undefined;
  private rateCache:
    | { at: number; key: string; value: Promise<{ processed: RatePoint[]; failed: RatePoint[] }> }
    | undefined;

  constructor(
    readonly id: string,
    private readonly broker: RabbitmqBrokerLike,
    managementUrl?: string,
  ) {
    const amqpUrl = broker.urls[0] ?? "amqp://guest:guest@127.0.0.1:5672";
    this.url = maskUrl(amqpUrl);
    this.api = new ManagementApi(managementUrl ?? managementUrlFor(amqpUrl), vhostOf(amqpUrl));
  }

  private managed(): Promise<ManagedQueue[]> {
    const now = Date.now();
    if (!this.listed || now - this.listed.at > CACHE_TTL) {
      const queues = this.api.queues();
      this.listed = { at: now, queues };
      queues.catch(() => (this.listed = undefined));
    }
    return this.listed.queues;
  }

  async queues(): Promise<string[]> {
    const names = new Set((await this.managed()).map((q) => q.name));
    const dramatiq = [...names].filter(
      (name) => !/\.(DQ|XQ)$/.test(name) && names.has(`${name}.XQ`),
    );
    const declared = [...this.broker.queues].filter((name) => !/\.(DQ|XQ)$/.test(name));
    return [...new Set([...declared, ...dramatiq])].sort();
  }

  async hasQueue(queue: string): Promise<boolean> {
    return (await this.queues()).includes(queue);
  }

  async counts(queues: readonly string[]): Promise<QueueCounts[]> {
    const byName = new Map((await this.managed()).map((q) => [q.name, q]));
    return queues.map((queue) => {
      const main = byName.get(queue);
      const delayed = byName.get(`${queue}.DQ`);
      const dead = byName.get(`${queue}.XQ`);
      return {
        ready: main?.messages_ready ?? 0,
        inFlight: main?.messages_unacknowledged ?? 0,
        delayed: delayed?.messages ?? 0,
        dead: dead?.messages ?? 0,
      };
    });
  }

  /** Processed: acks on the queues; failed: messages published to their dead-letter queues. */
  rates(
    queues: readonly string[],
    minutes: number,
  ): Promise<{ processed: RatePoint[]; failed: RatePoint[] }> {
    const key = `${minutes}:${queues.join(",")}`;
    const now = Date.now();
    if (!this.rateCache || this.rateCache.key !== key || now - this.rateCache.at > CACHE_TTL) {
      const value = this.readRates(queues, minutes);
      this.rateCache = { at: now, key, value };
      value.catch(() => (this.rateCache = undefined));
    }
    return this.rateCache.value;
  }

  private async readRates(queues: readonly string[], minutes: number) {
    const sum = (series: RatePoint[][]): RatePoint[] =>
      series.reduce(
        (total, points) => total.map((p, i) => ({ t: p.t, n: p.n + (points[i]?.n ?? 0) })),
        Array.from({ length: minutes }, (_, i) => ({
          t: Math.floor(Date.now() / 60_000) * 60_000 - (minutes - 1 - i) * 60_000,
          n: 0,
        })),
      );
    const [processed, failed] = await Promise.all([
      Promise.all(queues.map((q) => this.api.perMinute(q, "ack", minutes))),
      Promise.all(queues.map((q) => this.api.perMinute(`${q}.XQ`, "publish", minutes))),
    ]);
    return { processed: sum(processed), failed: sum(failed) };
  }

  /** Opens a channel for one operation and closes it after (unacked gets go back to the queue). */
  /**
   * Runs one peek / move / purge at a time: a purge during a peek would leave the peeked
   * (unacked) messages in place, and two peeks would each see part of a queue.
   */
  private withChannel<T>(run: (channel: ConfirmChannel) => Promise<T>): Promise<T> {
    const turn = this.channelTurn.then(async () => {
      const model = await this.broker.publisherLink.get();
      const channel = await model.createConfirmChannel();
      try {
        return await run(channel);
      } finally {
        await channel.close().catch(() => undefined);
      }
    });
    this.channelTurn = turn.catch(() => undefined);
    return turn;
  }

  /** Gets up to `count` messages of a queue (held on the channel until acked or nacked). */
  private async take(channel: Channel, queue: string, count: number): Promise<GetMessage[]> {
    const taken: GetMessage[] = [];
    while (taken.length < count) {
      const got = await channel.get(queue, { noAck: false });
      if (!got) break;
      taken.push(got);
    }
    return taken;
  }

  private stored(got: GetMessage, state: StoredMessage["state"]): StoredMessage {
    const dict = decodeStored(got.content);
    const id = String(
      got.properties.messageId ?? dict?.message_id ?? `delivery-${got.fields.deliveryTag}`,
    );
    const failedAt = state === "dead" ? deathTime(got) : undefined;
    return { id, state, data: got.content, failedAt };
  }

  async page(
    queue: string,
    state: MessageState,
    order: "oldest" | "newest",
    page: number,
    limit: number,
  ): Promise<MessagePage> {
    const name = `${queue}${suffix[state]}`;
    const managed = (await this.managed()).find((q) => q.name === name);
    const total = managed?.messages_ready ?? 0;
    const offset = page * limit;
    if (order === "oldest" && offset + limit > MAX_PEEK) {
      throw badRequest(
        `RabbitMQ queues are peeked with basic.get: at most the first ${MAX_PEEK} messages`,
      );
    }
    const messages = await this.withChannel(async (channel) => {
      const depth = order === "oldest" ? offset + limit : Math.min(total, MAX_PEEK);
      const taken = await this.take(channel, name, depth);
      channel.nackAll(true);
      const all = taken.map((got) => this.stored(got, state));
      return order === "oldest"
        ? all.slice(offset, offset + limit)
        : all.reverse().slice(offset, offset + limit);
    });
    return { total, messages };
  }

  async get(queue: string, id: string): Promise<StoredMessage | undefined> {
    for (const state of ["ready", "delayed", "dead"] as const) {
      const found = await this.withChannel(async (channel) => {
        const taken = await this.take(channel, `${queue}${suffix[state]}`, MAX_PEEK);
        channel.nackAll(true);
        return taken.map((got) => this.stored(got, state)).find((m) => m.id === id);
      });
      if (found) return found;
    }
    return undefined;
  }

  async scan(
    queue: string,
    max: number,
    each: (message: StoredMessage) => boolean,
  ): Promise<number> {
    let read = 0;
    for (const state of ["dead", "ready", "delayed"] as const) {
      if (read >= max) break;
      const batch = await this.withChannel(async (channel) => {
        const taken = await this.take(
          channel,
          `${queue}${suffix[state]}`,
          Math.min(MAX_PEEK, max - read),
        );
        channel.nackAll(true);
        return taken.map((got) => this.stored(got, state));
      });
      for (const message of batch) {
        read++;
        if (!each(message)) return read;
      }
    }
    return read;
  }

  async workers(): Promise<WorkerInfo[]> {
    const [consumers, unacked] = await Promise.all([
      this.api.consumers(),
      this.api.unackedByChannel(),
    ]);
    const byConnection = new Map<string, WorkerInfo>();
    const now = Date.now();
    for (const consumer of consumers) {
      const details = consumer.channel_details;
      const key = details.connection_name;
      let worker = byConnection.get(key);
      if (!worker) {
        const pid = /pid (\d+)/.exec(key)?.[1];
        worker = {
          broker: this.id,
          id: key,
          host: details.peer_host,
          pid: pid ? Number(pid) : undefined,
          queues: [],
          concurrency: 0,
          inProgress: 0,
          lastSeen: now,
          alive: true,
        };
        byConnection.set(key, worker);
      }
      if (!worker.queues.includes(consumer.queue.name)) worker.queues.push(consumer.queue.name);
      worker.concurrency = (worker.concurrency ?? 0) + (consumer.prefetch_count ?? 0);
      worker.inProgress = (worker.inProgress ?? 0) + (unacked.get(details.name) ?? 0);
    }
    return [...byConnection.values()].map((w) => ({ ...w, queues: w.queues.sort() }));
  }

  async alive(): Promise<number> {
    const consumers = await this.api.consumers();
    return new Set(consumers.map((c) => c.channel_details.connection_name)).size;
  }

  async retry(queue: string, ids: readonly string[] | "all"): Promise<number> {
    const wanted = ids === "all" ? undefined : new Set(ids);
    return this.withChannel(async (channel) => {
      const taken = await this.take(channel, `${queue}.XQ`, MAX_PEEK * 5);
      const moving = taken.filter((got) => !wanted || wanted.has(this.stored(got, "dead").id));
      for (const got of moving) {
        // The same properties (message id, headers, priority...), persistent, minus the empty ones.
        const properties = Object.fromEntries(
          Object.entries(got.properties as unknown as Record<string, unknown>).filter(
            ([, value]) => value !== undefined && value !== null,
          ),
        ) as Options.Publish;
        channel.publish("", queue, got.content, { ...properties, persistent: true });
      }
      await channel.waitForConfirms();
      // Published and confirmed: now the dead letters go; the others back where they were.
      for (const got of moving) channel.ack(got);
      const staying = taken.filter((got) => !moving.includes(got));
      for (const got of staying) channel.nack(got, false, true);
      this.listed = undefined;
      return moving.length;
    });
  }

  async delete(queue: string, id: string, state: MessageState): Promise<boolean> {
    return this.withChannel(async (channel) => {
      const taken = await this.take(channel, `${queue}${suffix[state]}`, MAX_PEEK);
      const found = taken.find((got) => this.stored(got, state).id === id);
      if (found) channel.ack(found);
      for (const got of taken) if (got !== found) channel.nack(got, false, true);
      this.listed = undefined;
      return found !== undefined;
    });
  }

  async purge(queue: string): Promise<number> {
    return this.withChannel(async (channel) => {
      let purged = 0;
      for (const name of [queue, `${queue}.DQ`, `${queue}.XQ`]) {
        purged += (await channel.purgeQueue(name)).messageCount;
      }
      this.listed = undefined;
      return purged;
    });
  }

  async close(): Promise<void> {}
}
