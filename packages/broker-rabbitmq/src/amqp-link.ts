import { connect, type ChannelModel, type Options } from "amqplib";
import { ConnectionFailed, computeBackoff, sleep, type Logger } from "@dq/core";
import { describeAmqpFailure } from "./connection-errors.js";

/** How an `AmqpLink` connects. */
export interface AmqpLinkOptions {
  /** Server URLs, tried in order (failover); the one that worked last is tried first. */
  urls: readonly string[];
  /** Socket options for amqplib (TLS, `clientProperties`, ...). */
  socketOptions: Record<string, unknown>;
  /** Rounds over all URLs before giving up with `ConnectionFailed`. */
  connectionAttempts: number;
  /** Upper bound of the backoff between rounds, in ms. */
  maxRetryDelay: number;
  /** Give up on one connection attempt after this many ms. */
  connectTimeout: number;
  logger: Logger;
  /** What this link is for, in log lines ("publisher", "consumer"). */
  role: string;
}

/** `amqp://user:***@host:port/vhost`: a URL safe to log. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<invalid URL>";
  }
}

/**
 * One lazily opened AMQP connection with failover and backoff. `get()` returns the open
 * connection or opens a new one; when the server closes it (or heartbeats stop), the next `get()`
 * reconnects. Channels are the callers' business.
 */
export class AmqpLink {
  private pending: Promise<ChannelModel> | undefined;
  private model: ChannelModel | undefined;
  private preferred = 0;
  private closing = false;
  /** Increments on every new connection, so callers can tell a reconnect happened. */
  generation = 0;

  constructor(private readonly options: AmqpLinkOptions) {}

  /** The open connection, if any, without connecting. */
  get current(): ChannelModel | undefined {
    return this.model;
  }

  /**
   * @returns an open connection
   * @throws ConnectionFailed with the last error as `cause` when no URL accepted a connection
   */
  get(): Promise<ChannelModel> {
    if (this.closing) return Promise.reject(new ConnectionFailed(`the ${this.options.role} connection is closed: the broker was closed`));
    if (this.model) return Promise.resolve(this.model);
    this.pending ??= this.open().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async open(): Promise<ChannelModel> {
    const { urls, connectionAttempts, logger, role } = this.options;
    let lastError: unknown;
    let lastUrl = urls[this.preferred % urls.length]!;
    for (let attempt = 0; attempt < connectionAttempts; attempt++) {
      for (let i = 0; i < urls.length; i++) {
        const index = (this.preferred + i) % urls.length;
        const url = urls[index]!;
        try {
          const model = await this.connectOnce(url);
          if (this.closing) {
            await model.close().catch(() => undefined);
            throw new ConnectionFailed(`the ${role} connection is closed: the broker was closed`);
          }
          this.preferred = index;
          this.adopt(model, url);
          return model;
        } catch (error) {
          if (ConnectionFailed.isInstance(error)) throw error;
          lastError = error;
          lastUrl = url;
          logger.warn(`Could not open the RabbitMQ ${role} connection to ${redactUrl(url)}: ${(error as Error).message}`);
        }
      }
      if (attempt + 1 < connectionAttempts) {
        const [delay] = computeBackoff(attempt, { factor: 100, maxBackoff: this.options.maxRetryDelay });
        await sleep(delay);
      }
    }
    const others = urls.length > 1 ? ` (tried ${urls.map(redactUrl).join(", ")})` : "";
    throw new ConnectionFailed(`${describeAmqpFailure(lastError, lastUrl, redactUrl(lastUrl), connectionAttempts)}${others}`, { cause: lastError });
  }

  private async connectOnce(url: string): Promise<ChannelModel> {
    const attempt = connect(url, { ...this.options.socketOptions, timeout: this.options.connectTimeout } as Options.Connect);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.options.connectTimeout} ms`)), this.options.connectTimeout);
    });
    try {
      return await Promise.race([attempt, timeout]);
    } catch (error) {
      // A connection that completes after the timeout must not leak.
      attempt.then((late) => late.close(), () => undefined).catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private adopt(model: ChannelModel, url: string): void {
    this.model = model;
    this.generation++;
    const { logger, role } = this.options;
    logger.debug(`Opened the RabbitMQ ${role} connection to ${redactUrl(url)}.`);
    // Without an 'error' listener a lost connection would crash the process.
    model.on("error", (error: Error) => {
      if (!this.closing) logger.warn(`RabbitMQ ${role} connection error: ${error.message}`);
    });
    model.on("close", (error?: Error) => {
      if (this.model === model) this.model = undefined;
      if (!this.closing) logger.warn(`Lost the RabbitMQ ${role} connection${error ? `: ${error.message}` : ""}; reconnecting on next use.`);
    });
    model.on("blocked", (reason: string) => logger.warn(`RabbitMQ blocked the ${role} connection: ${reason}`));
  }

  /** Closes the connection; `get()` fails afterwards. */
  async close(): Promise<void> {
    this.closing = true;
    const pending = this.pending;
    if (pending) await pending.catch(() => undefined);
    const model = this.model;
    this.model = undefined;
    if (model) await model.close().catch(() => undefined);
  }
}
