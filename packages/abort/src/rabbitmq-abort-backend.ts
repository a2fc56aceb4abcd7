import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { ConnectionError, getLogger, type Logger } from "@dq/core";
import { connect, type Channel, type ChannelModel, type ConfirmChannel } from "amqplib";
import { AbortBackend, type AbortEvent } from "./abort-backend.js";

/** What `RabbitmqAbortBackend` takes. */
export interface RabbitmqAbortBackendOptions {
  /** The server (default `amqp://guest:guest@127.0.0.1:5672`). */
  url?: string;
  /** The stream that carries abort records (default `dq.aborts`). */
  stream?: string;
  /**
   * How long the stream keeps records (`x-max-age`, default `7D`): a worker that starts later
   * reads what is younger. Keep it above your longest delay.
   */
  maxAge?: string;
  /** Where connection problems are logged (default `dq.RabbitmqAbortBackend`). */
  logger?: Logger;
}

/** One record of the stream. */
type StreamRecord =
  | { t: "events"; id: string; events: AbortEvent[]; expiresAt: number }
  | { t: "taken"; key: string; origin: string }
  | { t: "eta"; id: string; eta: number; expiresAt: number }
  | { t: "sync"; token: string };

/**
 * Abort requests on RabbitMQ alone: one durable stream queue (`x-queue-type: stream`) carries every
 * request; each process that uses the backend reads it from its retention start into memory, then
 * live, so a request reaches every worker at once (as a fanout would) and survives restarts (the
 * stream is the durable record). When a worker takes an event (a cancel when the message starts, an
 * abort while it runs) it appends a `taken` record, so every process forgets that event, as an LPOP
 * would. The keys and values are those of the Redis backend; the first read of a process waits
 * until it has read the stream up to now.
 */
export class RabbitmqAbortBackend extends AbortBackend {
  readonly url: string;
  readonly stream: string;
  readonly maxAge: string;
  private readonly logger: Logger;
  private readonly origin = randomUUID();
  private readonly lists = new Map<
    string,
    { events: Record<string, unknown>[]; expiresAt: number }
  >();
  private readonly etas = new Map<string, { eta: number; expiresAt: number }>();
  private readonly changes = new EventEmitter();
  private connection: ChannelModel | undefined;
  private publisher: ConfirmChannel | undefined;
  private consumer: Channel | undefined;
  private opening: Promise<ConfirmChannel> | undefined;
  private synced: Promise<void> | undefined;
  private nextOffset: number | "first" = "first";
  private closed = false;

  constructor(options: RabbitmqAbortBackendOptions = {}) {
    super();
    this.url = options.url ?? "amqp://guest:guest@127.0.0.1:5672";
    this.stream = options.stream ?? "dq.aborts";
    this.maxAge = options.maxAge ?? "7D";
    this.logger = options.logger ?? getLogger("dq.RabbitmqAbortBackend");
    this.changes.setMaxListeners(0);
  }

  private fail(what: string, error: unknown): never {
    throw new ConnectionError(
      `RabbitMQ abort backend (${this.url.replace(/\/\/[^@]*@/, "//")}) failed to ${what}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }

  /** The publishing channel, connecting (and declaring the stream) first. */
  private channel(): Promise<ConfirmChannel> {
    if (this.closed)
      return Promise.reject(new ConnectionError("the RabbitMQ abort backend is closed"));
    if (this.publisher) return Promise.resolve(this.publisher);
    this.opening ??= this.open().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async open(): Promise<ConfirmChannel> {
    try {
      const connection = await connect(this.url);
      connection.on("error", (error: Error) =>
        this.logger.debug(`connection error: ${error.message}`),
      );
      connection.on("close", () => this.lost());
      const publisher = await connection.createConfirmChannel();
      await publisher.assertQueue(this.stream, {
        durable: true,
        arguments: { "x-queue-type": "stream", "x-max-age": this.maxAge },
      });
      this.connection = connection;
      this.publisher = publisher;
      return publisher;
    } catch (error) {
      this.fail("connect", error);
    }
  }

  // A lost connection: the next call reconnects, and the reader resumes after the last record.
  private lost(): void {
    this.connection = this.publisher = this.consumer = undefined;
    if (!this.closed) this.synced = undefined;
  }

  private async publish(record: StreamRecord): Promise<void> {
    const channel = await this.channel();
    try {
      channel.sendToQueue(this.stream, Buffer.from(JSON.stringify(record)), { persistent: true });
      await channel.waitForConfirms();
    } catch (error) {
      this.fail("write an abort record", error);
    }
  }

  /** Reads the stream up to now (once per connection), then keeps reading it live. */
  private sync(): Promise<void> {
    this.synced ??= (async () => {
      await this.channel();
      const token = randomUUID();
      const seen = new Promise<void>((resolve) => this.changes.once(`sync:${token}`, resolve));
      try {
        const consumer = await this.connection!.createChannel();
        await consumer.prefetch(1000);
        await consumer.consume(
          this.stream,
          (delivery) => {
            if (!delivery) return;
            const headers: Record<string, unknown> | undefined = delivery.properties.headers;
            const offset = headers?.["x-stream-offset"];
            if (typeof offset === "number") this.nextOffset = offset + 1;
            this.apply(delivery.content);
            consumer.ack(delivery);
          },
          { noAck: false, arguments: { "x-stream-offset": this.nextOffset } },
        );
        this.consumer = consumer;
      } catch (error) {
        this.synced = undefined;
        this.fail("read the abort stream", error);
      }
      await this.publish({ t: "sync", token });
      await seen;
    })();
    return this.synced;
  }

  private apply(content: Buffer): void {
    let record: StreamRecord;
    try {
      record = JSON.parse(content.toString()) as StreamRecord;
    } catch {
      return;
    }
    const now = Date.now();
    if (record.t === "events") {
      if (record.expiresAt <= now) return;
      for (const { key, params } of record.events) {
        const list = this.live(key) ?? { events: [], expiresAt: 0 };
        list.events.push({ ...params });
        list.expiresAt = record.expiresAt;
        this.lists.set(key, list);
      }
      this.changes.emit("events");
      this.changes.emit(`applied:${record.id}`);
    } else if (record.t === "taken") {
      if (record.origin !== this.origin) this.live(record.key)?.events.shift();
    } else if (record.t === "eta") {
      if (record.expiresAt > now)
        this.etas.set(record.id, { eta: record.eta, expiresAt: record.expiresAt });
    } else if (record.t === "sync") this.changes.emit(`sync:${record.token}`);
  }

  private live(key: string) {
    const list = this.lists.get(key);
    if (list && (list.expiresAt <= Date.now() || list.events.length === 0)) {
      this.lists.delete(key);
      return undefined;
    }
    return list;
  }

  private take(key: string): AbortEvent | null {
    const params = this.live(key)?.events.shift();
    if (!params) return null;
    void this.publish({ t: "taken", key, origin: this.origin }).catch((error: unknown) =>
      this.logger.warn(`Could not record that abort event ${key} was taken.`, error),
    );
    return { key, params };
  }

  override async notify(events: readonly AbortEvent[], ttl: number): Promise<void> {
    const id = randomUUID();
    // When this process reads the stream, it sees its own request before notify resolves.
    const applied = this.consumer
      ? new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            this.changes.off(`applied:${id}`, done);
            resolve();
          };
          const timer = setTimeout(done, 5000);
          this.changes.on(`applied:${id}`, done);
        })
      : undefined;
    await this.publish({ t: "events", id, events: [...events], expiresAt: Date.now() + ttl });
    await applied;
  }

  override async poll(key: string): Promise<AbortEvent | null> {
    await this.sync();
    return this.take(key);
  }

  override async waitMany(keys: readonly string[], timeout: number): Promise<AbortEvent | null> {
    await this.sync();
    const deadline = Date.now() + timeout;
    for (;;) {
      for (const key of keys) {
        const event = this.take(key);
        if (event) return event;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return null;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.changes.off("events", done);
          this.changes.off("closed", done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.changes.on("events", done);
        this.changes.on("closed", done);
      });
    }
  }

  override async pending(key: string): Promise<boolean> {
    await this.sync();
    return this.live(key) !== undefined;
  }

  override async rememberEta(messageId: string, eta: number, ttl: number): Promise<void> {
    await this.publish({ t: "eta", id: messageId, eta, expiresAt: Date.now() + ttl });
  }

  override async etaOf(messageId: string): Promise<number | null> {
    await this.sync();
    const record = this.etas.get(messageId);
    return record && record.expiresAt > Date.now() ? record.eta : null;
  }

  /** Closes the connection. */
  override async close(): Promise<void> {
    this.closed = true;
    this.changes.emit("closed");
    const connection = this.connection;
    this.lost();
    await connection?.close().catch(() => undefined);
  }
}
