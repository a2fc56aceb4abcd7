// Leadership and state on RabbitMQ alone. Leadership: one token message circulates in a
// single-active-consumer queue; the process holding it (unacked) leads, and when its channel
// closes (stop, crash, SIGKILL) RabbitMQ requeues the token to the next consumer. State: the
// leader keeps the records in memory and publishes them, after every change, to a durable
// last-value queue (x-max-length 1); a new leader reads it first. Other processes (pause from a
// dashboard, worker outcomes) publish their changes to an updates queue that the leader applies.
import { connect, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from "amqplib";
import type { StoredDefinition } from "./spec.js";
import type { ScheduleRecord, SchedulerStore } from "./store.js";

/** Options of `RabbitmqSchedulerStore`. */
export interface RabbitmqSchedulerStoreOptions {
  /** `amqp://user:pass@host:port/vhost` (default `amqp://guest:guest@127.0.0.1:5672`). */
  url?: string;
  /** Queue names: `<prefix>.leader`, `<prefix>.state`, `<prefix>.updates` (default `dq-scheduler`). */
  prefix?: string;
  /** How often the leader requeues its token to itself, ahead of RabbitMQ's consumer_timeout (default 10 min). */
  tokenRefreshMs?: number;
}

interface Update {
  name: string;
  fields?: ScheduleRecord;
  dropDefinition?: boolean;
}

/** Leadership and state on RabbitMQ (see the README, "RabbitMQ-only deployments"). */
export class RabbitmqSchedulerStore implements SchedulerStore {
  readonly leaderQueue: string;
  readonly stateQueue: string;
  readonly updatesQueue: string;
  private readonly url: string;
  private readonly tokenRefreshMs: number;
  private connection: ChannelModel | undefined;
  private channel: ConfirmChannel | undefined;
  private connecting: Promise<void> | undefined;
  private token: ConsumeMessage | undefined;
  private tokenSince = 0;
  private refreshing = false;
  private loaded = false;
  /** Consuming the leader queue: only a process that calls `lead()` (a Scheduler) joins the election. */
  private joined = false;
  private closed = false;
  private records = new Map<string, ScheduleRecord>();

  constructor(options: RabbitmqSchedulerStoreOptions = {}) {
    const prefix = options.prefix ?? "dq-scheduler";
    this.url = options.url ?? "amqp://guest:guest@127.0.0.1:5672";
    this.tokenRefreshMs = options.tokenRefreshMs ?? 600_000;
    this.leaderQueue = `${prefix}.leader`;
    this.stateQueue = `${prefix}.state`;
    this.updatesQueue = `${prefix}.updates`;
  }

  private async ensureChannel(): Promise<ConfirmChannel> {
    if (this.closed) throw new Error("RabbitmqSchedulerStore is closed");
    if (!this.channel)
      await (this.connecting ??= this.connect().finally(() => (this.connecting = undefined)));
    return this.channel!;
  }

  private async connect(): Promise<void> {
    const connection = await connect(this.url);
    const lost = () => {
      if (this.connection !== connection) return;
      this.connection = undefined;
      this.channel = undefined;
      this.token = undefined;
      this.refreshing = false;
      this.loaded = false;
      this.joined = false;
    };
    connection.on("error", () => undefined);
    connection.on("close", lost);
    try {
      const channel = await connection.createConfirmChannel();
      channel.on("error", () => undefined);
      channel.on("close", () => {
        lost();
        void connection.close().catch(() => undefined);
      });
      await channel.assertQueue(this.leaderQueue, {
        durable: false,
        arguments: { "x-single-active-consumer": true, "x-expires": 600_000 },
      });
      await channel.assertQueue(this.stateQueue, {
        durable: true,
        arguments: { "x-max-length": 1 },
      });
      await channel.assertQueue(this.updatesQueue, { durable: true });
      this.connection = connection;
      this.channel = channel;
    } catch (error) {
      lost();
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  private onToken(channel: ConfirmChannel, delivery: ConsumeMessage | null): void {
    if (channel !== this.channel) return;
    if (!delivery) {
      // The consumer was cancelled (the queue was deleted): start over on the next round.
      void this.connection?.close().catch(() => undefined);
      return;
    }
    if (this.token) {
      channel.ack(delivery);
      return;
    }
    this.token = delivery;
    this.tokenSince = Date.now();
    this.refreshing = false;
  }

  async lead(): Promise<boolean> {
    let channel: ConfirmChannel;
    try {
      channel = await this.ensureChannel();
    } catch {
      return false;
    }
    if (!this.joined) {
      this.joined = true;
      try {
        await channel.consume(this.leaderQueue, (delivery) => this.onToken(channel, delivery));
        // Every candidate adds a token; the leader keeps one and drops the others it receives.
        channel.sendToQueue(this.leaderQueue, Buffer.from("token"));
        await channel.waitForConfirms();
      } catch {
        this.joined = false;
        return false;
      }
    }
    if (this.token && Date.now() - this.tokenSince > this.tokenRefreshMs) {
      // RabbitMQ closes a channel that holds a delivery past consumer_timeout (30 min by default):
      // requeue the token; as the active consumer, this process gets it straight back.
      this.refreshing = true;
      channel.nack(this.token, false, true);
      this.token = undefined;
    }
    if (!this.token && !this.refreshing) return false;
    if (!this.loaded) {
      await this.loadState(channel);
      this.loaded = true;
    }
    return true;
  }

  private async loadState(channel: ConfirmChannel): Promise<void> {
    this.records = await this.peek(channel);
    await channel.consume(this.updatesQueue, (delivery) => {
      if (!delivery || channel !== this.channel) return;
      void this.applyUpdate(channel, delivery);
    });
  }

  private async applyUpdate(channel: ConfirmChannel, delivery: ConsumeMessage): Promise<void> {
    try {
      const update = JSON.parse(delivery.content.toString("utf8")) as Update;
      if (update.dropDefinition) {
        const record = this.records.get(update.name);
        if (record) delete record.definition;
        await this.publishState(channel);
      } else if (update.fields) await this.merge(update.name, update.fields);
    } catch {
      // A malformed update is dropped; a failed publish leaves the update for the next leader.
    }
    try {
      if (channel === this.channel) channel.ack(delivery);
    } catch {
      // The channel closed meanwhile (resigned or lost): the update is delivered again.
    }
  }

  /** The stored records, read without taking them off the state queue. */
  private async peek(channel: ConfirmChannel): Promise<Map<string, ScheduleRecord>> {
    const got = await channel.get(this.stateQueue, { noAck: false });
    if (!got) return new Map();
    channel.nack(got, false, true);
    try {
      const parsed = JSON.parse(got.content.toString("utf8")) as Record<string, ScheduleRecord>;
      return new Map(Object.entries(parsed));
    } catch {
      return new Map();
    }
  }

  private async publishState(channel: ConfirmChannel): Promise<void> {
    channel.sendToQueue(
      this.stateQueue,
      Buffer.from(JSON.stringify(Object.fromEntries(this.records))),
      { persistent: true, contentType: "application/json" },
    );
    await channel.waitForConfirms();
  }

  private get leading(): boolean {
    return (this.token !== undefined || this.refreshing) && this.loaded;
  }

  private async merge(name: string, fields: ScheduleRecord): Promise<void> {
    const record = { ...this.records.get(name) };
    for (const [key, value] of Object.entries(fields))
      if (value !== undefined) (record as Record<string, unknown>)[key] = value;
    this.records.set(name, record);
    await this.publishState(this.channel!);
  }

  async resign(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.channel = undefined;
    this.token = undefined;
    this.loaded = false;
    this.joined = false;
    // Closing the channel requeues the token to the next consumer in line.
    await connection?.close().catch(() => undefined);
  }

  /** Single-active-consumer leadership is exclusive: a slot is free when it is after the last one dealt with. */
  async claim(name: string, slot: number): Promise<boolean> {
    return this.leading && (this.records.get(name)?.lastSlot ?? -Infinity) < slot;
  }

  async read(names: readonly string[]): Promise<Map<string, ScheduleRecord>> {
    const source = this.leading ? this.records : await this.peek(await this.ensureChannel());
    return new Map(names.map((name) => [name, { ...source.get(name) }]));
  }

  async write(name: string, fields: ScheduleRecord): Promise<void> {
    if (this.leading) return this.merge(name, fields);
    await this.sendUpdate({ name, fields });
  }

  async define(name: string, definition: StoredDefinition | undefined): Promise<void> {
    if (definition !== undefined) return this.write(name, { definition });
    if (this.leading) {
      const record = this.records.get(name);
      if (record) delete record.definition;
      return this.publishState(this.channel!);
    }
    await this.sendUpdate({ name, dropDefinition: true });
  }

  async setPaused(name: string, paused: boolean): Promise<void> {
    await this.write(name, { paused });
  }

  private async sendUpdate(update: Update): Promise<void> {
    const channel = await this.ensureChannel();
    channel.sendToQueue(this.updatesQueue, Buffer.from(JSON.stringify(update)), {
      persistent: true,
    });
    await channel.waitForConfirms();
  }

  /** Deletes the three queues (for tests and for retiring a deployment), on a connection of its own. */
  async clear(): Promise<void> {
    const connection = await connect(this.url);
    try {
      const channel = await connection.createChannel();
      for (const queue of [this.leaderQueue, this.stateQueue, this.updatesQueue])
        await channel.deleteQueue(queue);
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.resign();
  }
}
