import {
  Broker,
  type Message,
  QueueJoinTimeout,
  type BrokerCapabilities,
  type BrokerOptions,
  type ConsumeOptions,
  type Consumer,
  type JoinOptions,
} from "@dq/core";
import { InvalidOptionError } from "@dq/core";
import { canonicalQueueName, deadLetterQueueName, delayQueueName, sleep } from "@dq/core/adapter";
import { AmqpLink } from "./amqp-link.js";
import { ChannelOperations, type DeadLetter } from "./channel-operations.js";
import { linkTimings, parseUrls, rabbitmqOptions, withHeartbeat } from "./options.js";
import { Publisher, type Outgoing } from "./publisher.js";
import { RabbitmqConsumer, type ConsumerHost } from "./rabbitmq-consumer.js";
import { tlsSocketOptions, type RabbitmqTlsOptions } from "./tls.js";

export type { DeadLetter } from "./channel-operations.js";
export type { RabbitmqTlsOptions } from "./tls.js";

/** What `new RabbitmqBroker(options)` takes. */
export interface RabbitmqBrokerOptions extends BrokerOptions {
  /**
   * The server: an `amqp://` or `amqps://` URL, a list of them, or a `;`-separated string, tried in
   * order (failover). Default `amqp://guest:guest@127.0.0.1:5672`.
   */
  url?: string | readonly string[];
  /**
   * The nodes of a cluster, tried in order; after a lost connection the next node is tried first.
   * The same as a list in `url` (give one or the other). Use publisher confirms (the default) for HA.
   */
  urls?: readonly string[];
  /**
   * `"classic"` (default; Dramatiq's queues) or `"quorum"`: replicated queues declared with
   * `x-queue-type: quorum`, dead-lettering to `q.XQ` as classic ones do. See the README.
   */
  queueType?: "classic" | "quorum";
  /**
   * Quorum queues only: after this many redeliveries (a worker that died holding the message, or
   * returned it) RabbitMQ dead-letters a message of `q` to `q.XQ`. Default: unlimited, as classic
   * queues (on RabbitMQ 4 dq declares `x-delivery-limit: -1`, since 4.0 defaults to 20).
   */
  deliveryLimit?: number;
  /**
   * Use queues declared by someone else: check that `q`, `q.DQ` and `q.XQ` exist (`QueueNotFound`
   * when not) instead of declaring them.
   */
  passive?: boolean;
  /**
   * The server's `consumer_timeout` in ms (default 1 800 000, RabbitMQ's default; AMQP cannot read
   * it). A delayed message that would stay unacked past 80% of it is re-published to the delay
   * queue (its eta unchanged) and acked, so the server never closes the channel over it.
   */
  consumerTimeout?: number;
  /** TLS settings for `amqps://` URLs: CA, client certificate and key, server name. */
  tls?: RabbitmqTlsOptions;
  /**
   * Wait for publisher confirms: `enqueue` resolves once RabbitMQ has stored the message (default
   * true, unlike Dramatiq). With false, `enqueue` resolves once the message is written to the
   * socket: ~50× faster one at a time, but a node restart or a process that exits at once can
   * still lose it (see the README).
   */
  confirmDelivery?: boolean;
  /** Declare queues with `x-max-priority` (1–255), enabling the `brokerPriority` message option. */
  maxPriority?: number;
  /** AMQP heartbeat in seconds, unless the URL sets one (default 60; 0 turns heartbeats off). */
  heartbeat?: number;
  /** The `connection_name` client property prefix, shown by `rabbitmqctl list_connections` (default `dq pid <pid>`). */
  connectionName?: string;
  /**
   * Rounds over all URLs before an operation fails with `ConnectionFailed` (default `Infinity`:
   * `connectionWait` bounds the wait).
   */
  connectionAttempts?: number;
  /** How long an operation (a send, a consumer's start) waits for a connection, in ms, before `ConnectionFailed` (default 30 000). */
  connectionWait?: number;
  /** Give up on one connection attempt after this many ms (default 10 000; never beyond `connectionWait`). */
  connectTimeout?: number;
  /** The backoff after the first failed round over the URLs, in ms; it doubles each round, with jitter (default 100). */
  minRetryDelay?: number;
  /** Upper bound of the backoff between connection rounds, in ms (default 10 000). */
  maxRetryDelay?: number;
  /** Extra socket options for amqplib (TLS certificates, `noDelay`, ...). */
  socketOptions?: Record<string, unknown>;
}

/** Counts of ready messages, as RabbitMQ reports them (unacked deliveries are not counted). */
export interface QueueMessageCounts {
  /** Ready in `q`. */
  ready: number;
  /** Ready in `q.DQ`. */
  delayed: number;
  /** Ready in `q.XQ`. */
  dead: number;
}

/**
 * A broker on RabbitMQ with Python Dramatiq's topology: per queue `q`, a delay queue `q.DQ` and a
 * dead-letter queue `q.XQ`, declared lazily with Dramatiq's exact arguments so Python and Node
 * workers share them. Messages are persistent; `brokerPriority` becomes the AMQP priority.
 *
 * Publishing uses one connection (reconnected on demand, failing over across the URLs); consumers
 * share a second connection, each with a channel of its own.
 */
export class RabbitmqBroker extends Broker implements ConsumerHost {
  readonly urls: readonly string[];
  readonly confirmDelivery: boolean;
  readonly maxPriority: number | undefined;
  readonly queueType: "classic" | "quorum";
  readonly deliveryLimit: number | undefined;
  readonly passive: boolean;
  readonly consumerTimeout: number;
  /** @internal */
  readonly publisherLink: AmqpLink;
  /** @internal */
  readonly consumerLink: AmqpLink;
  /** @internal */
  readonly publisher: Publisher;
  private readonly channels: ChannelOperations;
  private readonly declared = new Map<string, Promise<void>>();
  /** Queues whose declaration went through (cleared with `declared`). */
  private readonly ready = new Set<string>();
  private readonly consumers = new Set<RabbitmqConsumer>();
  private closed = false;

  /**
   * @throws InvalidOptionError on an invalid URL, `maxPriority`, heartbeat or connection timing
   */
  constructor(options: RabbitmqBrokerOptions = {}) {
    super(options);
    const checked = rabbitmqOptions(options);
    if (options.url !== undefined && options.urls !== undefined)
      throw new InvalidOptionError("give url or urls, not both");
    this.urls = parseUrls(options.urls ?? options.url).map((url) =>
      withHeartbeat(url, checked.heartbeat),
    );
    const tls = tlsSocketOptions(options.tls, this.urls);
    this.maxPriority = checked.maxPriority;
    this.queueType = checked.queueType;
    this.deliveryLimit = checked.deliveryLimit;
    this.passive = checked.passive;
    this.consumerTimeout = checked.consumerTimeout;
    this.confirmDelivery = options.confirmDelivery ?? true;
    const connectionName = options.connectionName ?? `dq pid ${process.pid}`;
    const timings = linkTimings(checked);
    const link = (role: string) =>
      new AmqpLink({
        urls: this.urls,
        socketOptions: {
          ...options.socketOptions,
          ...tls,
          clientProperties: { connection_name: `${connectionName} ${role}` },
        },
        ...timings,
        logger: this.logger,
        role,
      });
    this.publisherLink = link("publisher");
    this.consumerLink = link("consumer");
    this.publisher = new Publisher(this);
    this.channels = new ChannelOperations(this.publisherLink);
  }

  /** @internal */
  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal Whether `q`, `q.DQ` and `q.XQ` are known to be declared. */
  isDeclared(queueName: string): boolean {
    return this.ready.has(canonicalQueueName(queueName));
  }

  get capabilities(): BrokerCapabilities {
    return { delay: true, deadLetters: true, exactJoin: false, requeue: true };
  }

  /**
   * Declares `q`, `q.DQ` and `q.XQ` on the server, once per broker (again after `forgetQueue`).
   * @throws QueueArgumentsMismatch when one exists with other arguments
   * @internal
   */
  ensureQueue(queueName: string, link: AmqpLink = this.publisherLink): Promise<void> {
    const name = canonicalQueueName(queueName);
    let declared = this.declared.get(name);
    if (!declared) {
      const { maxPriority, queueType, deliveryLimit, passive } = this;
      const options = { maxPriority, queueType, deliveryLimit, passive };
      const pending = (declared = this.channels.declare(name, options, link));
      pending.then(
        () => {
          if (this.declared.get(name) === pending) this.ready.add(name);
        },
        () => {
          if (this.declared.get(name) === pending) this.declared.delete(name);
        },
      );
      this.declared.set(name, declared);
    }
    return declared;
  }

  /** @internal */
  forgetQueue(queueName: string): void {
    this.declared.delete(canonicalQueueName(queueName));
    this.ready.delete(canonicalQueueName(queueName));
  }

  /**
   * Publishes a delivery's bytes again, unchanged, on `queueName` (a delay queue), and resolves once
   * RabbitMQ has it (with confirms) or the socket does.
   * @internal
   */
  async republish(queueName: string, body: Buffer, priority: number | undefined): Promise<void> {
    await this.publisher.send([{ queueName, body, priority }]);
  }

  /** @internal */
  consumerClosed(consumer: RabbitmqConsumer): void {
    this.consumers.delete(consumer);
  }

  protected publish(messages: readonly Message[]): Promise<void> {
    const outgoing: Outgoing[] = messages.map((message) => ({
      queueName: message.queueName,
      body: message.encode(),
      priority:
        typeof message.options.brokerPriority === "number"
          ? message.options.brokerPriority
          : undefined,
    }));
    return this.publisher.publish(outgoing);
  }

  /**
   * Publishes raw bytes on a queue as another producer would (to test bad input).
   * @param properties - AMQP properties; `persistent` by default
   */
  async enqueueRaw(
    queueName: string,
    data: Buffer | string,
    properties: { priority?: number } = {},
  ): Promise<void> {
    const body = Buffer.isBuffer(data) ? data : Buffer.from(data, "utf8");
    await this.publisher.send([{ queueName, body, priority: properties.priority }]);
  }

  /**
   * Starts consuming `queueName` (`q` or `q.DQ`) on a channel of its own with `basic.qos(prefetch)`.
   * The queue is declared on the first `next()`.
   */
  consume(queueName: string, options: ConsumeOptions = {}): Consumer {
    const consumer = new RabbitmqConsumer(
      this,
      queueName,
      canonicalQueueName(queueName),
      options.prefetch ?? 1,
      options.timeout ?? 1000,
    );
    this.consumers.add(consumer);
    return consumer;
  }

  /** Ready messages in `q`, `q.DQ` and `q.XQ` (Dramatiq's `get_queue_message_counts`). */
  async getQueueMessageCounts(queueName: string): Promise<QueueMessageCounts> {
    const name = canonicalQueueName(queueName);
    const [ready, delayed, dead] = await Promise.all([
      this.channels.readyCount(name),
      this.channels.readyCount(delayQueueName(name)),
      this.channels.readyCount(deadLetterQueueName(name)),
    ]);
    return { ready, delayed, dead };
  }

  /**
   * Reads the dead letters of a queue without removing them (they are fetched unacked and returned
   * when the reading channel closes). For tests and tools.
   */
  async getDeadLetters(queueName: string, options: { limit?: number } = {}): Promise<DeadLetter[]> {
    return this.channels.deadLetters(deadLetterQueueName(queueName), options.limit ?? 10_000);
  }

  /** Purges `q`, `q.DQ` and `q.XQ` (missing queues are skipped). */
  async flush(queueName: string): Promise<void> {
    const name = canonicalQueueName(queueName);
    for (const queue of [name, delayQueueName(name), deadLetterQueueName(name)])
      await this.channels.purge(queue);
  }

  /** Purges every declared queue. */
  async flushAll(): Promise<void> {
    for (const queue of this.queues) await this.flush(queue);
  }

  /**
   * Dramatiq's RabbitMQ join: polls the ready counts of `q` and `q.DQ` every `idleTime` ms and
   * returns after `minSuccesses` consecutive zero readings. Unacked (in-flight) messages are not
   * counted, so a message still being processed may be running when this returns.
   * @throws QueueJoinTimeout after `timeout` ms
   */
  async join(
    queueName: string,
    options: JoinOptions & { minSuccesses?: number; idleTime?: number } = {},
  ): Promise<void> {
    const name = canonicalQueueName(queueName);
    const { minSuccesses = 10, idleTime = 100 } = options;
    const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout;
    let successes = 0;
    for (;;) {
      const [ready, delayed] = await Promise.all([
        this.channels.readyCount(name),
        this.channels.readyCount(delayQueueName(name)),
      ]);
      successes = ready === 0 && delayed === 0 ? successes + 1 : 0;
      if (successes >= minSuccesses) return;
      if (Date.now() >= deadline) {
        throw new QueueJoinTimeout(
          `timed out after ${options.timeout} ms waiting for queue ${JSON.stringify(name)} to drain (${ready} ready, ${delayed} delayed)`,
        );
      }
      await sleep(Math.min(idleTime, Math.max(0, deadline - Date.now())));
    }
  }

  /** Closes every consumer (their unacked deliveries return to the queues) and both connections. */
  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((consumer) => consumer.close()));
    await this.publisher.close();
    await Promise.all([this.publisherLink.close(), this.consumerLink.close()]);
  }
}
