import { connect, type ChannelModel, type Options } from "amqplib";
import { ConnectionFailed, type Logger } from "@dq/core";
// The URLs reached here all parsed (options.ts checks them), so maskUrl masks their password.
import { maskUrl, sleep } from "@dq/core/adapter";
import { describeAmqpFailure } from "./connection-errors.js";

/** How an `AmqpLink` connects. */
export interface AmqpLinkOptions {
  /**
   * Server URLs, tried in order (failover); the one that worked last is tried first, unless it
   * dropped the connection with an error: then the next one is.
   */
  urls: readonly string[];
  /** Socket options for amqplib (TLS, `clientProperties`, ...). */
  socketOptions: Record<string, unknown>;
  /** Rounds over all URLs before giving up with `ConnectionFailed` (may be `Infinity`). */
  connectionAttempts: number;
  /** The backoff after the first failed round, in ms; it doubles each round. */
  minRetryDelay: number;
  /** Upper bound of the backoff between rounds, in ms. */
  maxRetryDelay: number;
  /** How long one `get()` may take in all (rounds and backoff together) before `ConnectionFailed`, in ms. */
  connectionWait: number;
  /** Give up on one connection attempt after this many ms. */
  connectTimeout: number;
  logger: Logger;
  /** What this link is for, in log lines ("publisher", "consumer"). */
  role: string;
  /** A source of numbers in [0, 1) for the jitter (tests); `Math.random` by default. */
  random?: () => number;
}

/** How long and how often a link tries to connect. */
export type LinkTimings = Pick<
  AmqpLinkOptions,
  "connectionAttempts" | "connectionWait" | "connectTimeout" | "minRetryDelay" | "maxRetryDelay"
>;

/**
 * The wait before reconnecting after `round` failed rounds (0 for the first): exponential with
 * "equal jitter", a random point in the upper half of `min · 2^round` capped at `max`. The lower
 * bound doubles each round, so the waits grow until the cap while a fleet of clients that lost the
 * same server does not come back in lockstep.
 */
export function reconnectDelay(
  round: number,
  { min, max, random = Math.random }: { min: number; max: number; random?: () => number },
): number {
  const ceiling = Math.min(max, min * 2 ** Math.min(round, 52));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
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
  /** Aborted by `close()`: ends a backoff wait at once. */
  private readonly closed = new AbortController();
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
    if (this.closing) return Promise.reject(this.closedError());
    if (this.model) return Promise.resolve(this.model);
    this.pending ??= this.open().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async open(): Promise<ChannelModel> {
    const { urls, connectionAttempts, connectionWait, logger, role } = this.options;
    const started = Date.now();
    const deadline = started + connectionWait;
    let lastError: unknown;
    let rounds = 0;
    let lastUrl = urls[this.preferred % urls.length]!;
    while (rounds < connectionAttempts) {
      for (let i = 0; i < urls.length; i++) {
        // The first URL of the first round is always tried; after that, only within the wait.
        if ((rounds > 0 || i > 0) && Date.now() >= deadline) break;
        const index = (this.preferred + i) % urls.length;
        const url = urls[index]!;
        try {
          const model = await this.connectOnce(
            url,
            Math.max(1, Math.min(this.options.connectTimeout, deadline - Date.now())),
          );
          if (this.closing) {
            await model.close().catch(() => undefined);
            throw this.closedError();
          }
          this.preferred = index;
          this.adopt(model, url, index);
          return model;
        } catch (error) {
          if (ConnectionFailed.isInstance(error)) throw error;
          lastError = error;
          lastUrl = url;
          logger.warn(
            `Could not open the RabbitMQ ${role} connection to ${maskUrl(url)}: ${(error as Error).message}`,
          );
        }
      }
      rounds++;
      const left = deadline - Date.now();
      if (rounds >= connectionAttempts || left <= 0) break;
      const delay = reconnectDelay(rounds - 1, {
        min: this.options.minRetryDelay,
        max: this.options.maxRetryDelay,
        random: this.options.random,
      });
      logger.warn(
        `RabbitMQ ${role} connection: round ${rounds} failed; reconnecting in ${delay} ms.`,
      );
      await sleep(Math.min(delay, left), this.closed.signal);
      if (this.closing) throw this.closedError();
    }
    const others = urls.length > 1 ? ` (tried ${urls.map(maskUrl).join(", ")})` : "";
    throw new ConnectionFailed(
      `${describeAmqpFailure(lastError, lastUrl, maskUrl(lastUrl), rounds)}${others} ` +
        `(${rounds} round(s) in ${Date.now() - started} ms; connectionAttempts ${connectionAttempts}, connectionWait ${connectionWait} ms)`,
      { cause: lastError },
    );
  }

  private closedError(): ConnectionFailed {
    return new ConnectionFailed(
      `the ${this.options.role} connection is closed: the broker was closed`,
    );
  }

  private async connectOnce(url: string, timeoutMs: number): Promise<ChannelModel> {
    const attempt = connect(url, {
      ...this.options.socketOptions,
      timeout: timeoutMs,
    } as Options.Connect);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([attempt, timeout]);
    } catch (error) {
      // A connection that completes after the timeout must not leak.
      attempt
        .then(
          (late) => late.close(),
          () => undefined,
        )
        .catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private adopt(model: ChannelModel, url: string, index: number): void {
    this.model = model;
    this.generation++;
    const { logger, role } = this.options;
    logger.debug(`Opened the RabbitMQ ${role} connection to ${maskUrl(url)}.`);
    // Without an 'error' listener a lost connection would crash the process.
    model.on("error", (error: Error) => {
      if (!this.closing) logger.warn(`RabbitMQ ${role} connection error: ${error.message}`);
    });
    model.on("close", (error?: Error) => {
      if (this.model === model) this.model = undefined;
      // A node that dropped the connection (stopped, partitioned) is tried last next time.
      if (error && this.preferred === index)
        this.preferred = (index + 1) % this.options.urls.length;
      if (!this.closing)
        logger.warn(
          `Lost the RabbitMQ ${role} connection${error ? `: ${error.message}` : ""}; reconnecting on next use.`,
        );
    });
    model.on("blocked", (reason: string) =>
      logger.warn(`RabbitMQ blocked the ${role} connection: ${reason}`),
    );
  }

  /** Closes the connection; `get()` fails afterwards. */
  async close(): Promise<void> {
    this.closing = true;
    this.closed.abort();
    const pending = this.pending;
    if (pending) await pending.catch(() => undefined);
    const model = this.model;
    this.model = undefined;
    if (model) await model.close().catch(() => undefined);
  }
}
