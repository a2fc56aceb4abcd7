import { inspect } from "node:util";
import {
  InvalidOptionError,
  Middleware,
  holdAck,
  type Broker,
  type Group,
  type Logger,
  type Message,
  type MessageProxy,
  type Pipeline,
  type ProcessOutcome,
  type Worker,
} from "@dq/core";
import { optionValidator, type OptionValidator } from "@dq/core/adapter";
import type { AbortBackend } from "./abort-backend.js";
import {
  AbortClient,
  type AbortOptions,
  type AbortResult,
  type AbortTarget,
} from "./abort-client.js";
import { Abort } from "./abort-error.js";

declare module "@dq/core" {
  interface MiddlewareMessageOptions {
    /** Abortable: whether `abort()` can cancel or interrupt this message (default: the middleware's `abortable`, true). */
    abortable?: boolean;
    /** Abortable: the actor sent `(messageId, messageData)` after this message was cancelled or aborted. */
    onAbort?: string;
  }
}

/** What `Abortable` takes. */
export interface AbortableOptions {
  /** Where abort requests travel (a `RedisAbortBackend`, or a `StubAbortBackend` in tests). */
  backend: AbortBackend;
  /** Whether messages are abortable unless their actor or message says otherwise (default true). */
  abortable?: boolean;
  /** The default TTL of an abort request, in ms (default 90 000, dramatiq-abort's). */
  abortTtl?: number;
  /** Where the watcher logs (default: the broker's logger). */
  logger?: Logger;
}

const OPTION_VALIDATORS: Readonly<Record<string, OptionValidator>> = {
  abortable: optionValidator("a boolean", (value) => value === null || typeof value === "boolean"),
  onAbort: optionValidator(
    "an actor name",
    (value) => value === null || (typeof value === "string" && value.length > 0),
  ),
};

/** How long one wait for abort events lasts, in ms (dramatiq-abort's). */
const WAIT_TIMEOUT = 1000;

/**
 * Lets `abort()` cancel messages that have not started and interrupt running ones, with Python
 * dramatiq-abort's storage. A cancelled message is skipped when it starts; a running one has its
 * `AbortSignal` fire with an `Abort`, and the worker stops waiting for it after the request's
 * `abortTimeout`. Either way the message fails with `Abort`: acked, not retried, stored as a
 * failure when `Results` is on, and the `onAbort` actor (if any) is sent `(messageId, messageData)`.
 *
 * Each worker process runs one watcher: a blocking wait (one second at a time) on the abort events
 * of the abortable messages it is running. Actor and message options: `abortable`, `onAbort`.
 */
export class Abortable extends Middleware {
  readonly backend: AbortBackend;
  readonly abortable: boolean;
  readonly abortTtl: number;
  /** Sends the requests of `abort()` through this middleware's backend. */
  readonly client: AbortClient;
  private readonly logger: Logger | undefined;
  /** The abortable messages running in this process, by message id. */
  private readonly running = new Map<string, MessageProxy>();
  private workers = 0;
  private watcher: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  /** @throws InvalidOptionError without a backend, or for a bad `abortable` or `abortTtl` */
  constructor(options: AbortableOptions) {
    super();
    if (!options?.backend || typeof options.backend.notify !== "function")
      throw new InvalidOptionError(
        `Abortable: invalid option backend = ${inspect(options?.backend)}: expected an AbortBackend (RedisAbortBackend, StubAbortBackend)`,
        { option: "backend", value: options?.backend, expected: "an AbortBackend" },
      );
    if (options.abortable !== undefined && typeof options.abortable !== "boolean")
      throw new InvalidOptionError(
        `Abortable: invalid option abortable = ${inspect(options.abortable)}: expected a boolean`,
        { option: "abortable", value: options.abortable, expected: "a boolean" },
      );
    this.backend = options.backend;
    this.abortable = options.abortable ?? true;
    this.client = new AbortClient(options.backend, {
      abortTtl: options.abortTtl,
      logger: options.logger,
    });
    this.abortTtl = this.client.abortTtl;
    this.logger = options.logger;
  }

  override get actorOptions(): ReadonlySet<string> {
    return new Set(["abortable", "onAbort"]);
  }

  override get optionValidators(): Readonly<Record<string, OptionValidator>> {
    return OPTION_VALIDATORS;
  }

  /** Cancels or aborts a message, or every message of a group or pipeline (see `AbortClient.abort`). */
  abort(target: string | Message, options?: AbortOptions): Promise<AbortResult>;
  abort(target: Group | Pipeline, options?: AbortOptions): Promise<AbortResult[]>;
  abort(target: AbortTarget, options: AbortOptions = {}): Promise<AbortResult | AbortResult[]> {
    return this.client.abort(target, options);
  }

  /** Message option, then actor option, then the middleware's default (dramatiq-abort's order). */
  isAbortable(broker: Broker, message: Pick<MessageProxy, "options" | "actorName">): boolean {
    const own = message.options.abortable;
    if (typeof own === "boolean") return own;
    const ofActor = broker.actors.get(message.actorName)?.options.abortable;
    if (typeof ofActor === "boolean") return ofActor;
    return this.abortable;
  }

  // A delayed message's due time, so that an abort by id keeps its request until then.
  override afterEnqueue(
    broker: Broker,
    message: Message,
    delay: number | undefined,
  ): void | Promise<void> {
    const eta = message.options.eta;
    if (!delay || typeof eta !== "number" || !this.isAbortable(broker, message)) return;
    return this.backend
      .rememberEta(message.messageId, eta, delay + this.abortTtl)
      .catch((error: unknown) =>
        (this.logger ?? broker.logger).warn(
          `Could not record when message ${message.messageId} is due; an abort by id may expire before it runs.`,
          error,
        ),
      );
  }

  // Synchronous for a message that is not abortable: no round trip, no promise.
  override beforeProcessMessage(broker: Broker, message: MessageProxy): void | Promise<void> {
    if (!this.isAbortable(broker, message)) return;
    return this.checkCancel(message);
  }

  /** Skips a message whose cancel event is waiting; otherwise watches it while it runs. */
  private async checkCancel(message: MessageProxy): Promise<void> {
    const event = await this.backend.poll(`cancel:${message.messageId}`);
    if (event) {
      const abort = new Abort(
        `message ${message.messageId} (${message.actorName}) was cancelled before it started`,
        { mode: "cancel" },
      );
      message.interrupt(abort);
      throw abort;
    }
    this.running.set(message.messageId, message);
    this.wake?.();
  }

  override afterProcessMessage(
    broker: Broker,
    message: MessageProxy,
    { exception }: ProcessOutcome,
  ): void | Promise<unknown> {
    this.running.delete(message.messageId);
    if (!Abort.isInstance(exception)) return;
    const target = message.options.onAbort ?? broker.actors.get(message.actorName)?.options.onAbort;
    if (typeof target !== "string" || !target) return;
    // Acked only once the onAbort message is enqueued, as Dramatiq's callbacks.
    return holdAck(broker.getActor(target).send(message.messageId, message.asDict()));
  }

  override afterSkipMessage(_broker: Broker, message: MessageProxy): void {
    this.running.delete(message.messageId);
  }

  override beforeWorkerBoot(broker: Broker, _worker: Worker): void {
    this.workers++;
    this.watcher ??= this.watch(broker);
  }

  override async afterWorkerShutdown(_broker: Broker, _worker: Worker): Promise<void> {
    if (--this.workers > 0) return;
    const watcher = this.watcher;
    this.wake?.();
    await watcher;
    this.watcher = undefined;
  }

  /** The process's one watcher: waits for abort events of the running abortable messages. */
  private async watch(broker: Broker): Promise<void> {
    const logger = this.logger ?? broker.logger;
    while (this.workers > 0) {
      const ids = [...this.running.keys()];
      if (ids.length === 0) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            this.wake = undefined;
            resolve();
          };
          const timer = setTimeout(done, WAIT_TIMEOUT);
          this.wake = done;
        });
        continue;
      }
      try {
        const event = await this.backend.waitMany(
          ids.map((id) => `abort:${id}`),
          WAIT_TIMEOUT,
        );
        if (event) this.interrupt(event.key.slice("abort:".length), event.params, logger);
      } catch (error) {
        logger.error("The abort watcher could not read abort events; retrying in 1 s.", error);
        await new Promise((resolve) => setTimeout(resolve, WAIT_TIMEOUT));
      }
    }
  }

  private interrupt(messageId: string, params: Readonly<Record<string, unknown>>, logger: Logger) {
    const message = this.running.get(messageId);
    if (!message) return; // it finished meanwhile
    const timeout = Number(params.abort_timeout);
    const abortTimeout = Number.isFinite(timeout) && timeout > 0 ? timeout : 0;
    logger.info(`Aborting message ${messageId} (${message.actorName}).`);
    message.interrupt(
      new Abort(`message ${messageId} (${message.actorName}) was aborted`, {
        mode: "abort",
        abortTimeout,
      }),
      { grace: abortTimeout },
    );
  }
}
