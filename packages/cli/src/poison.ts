import { Middleware, type Broker, type Logger, type MessageProxy } from "@dq/core";

/** The reason a poison message is dead-lettered with: its processing killed its worker process too often. */
export class PoisonMessage extends Error {
  override name = "PoisonMessage";
}

/** How long a suspect waits for the ack of a neighbour that finished running before starting anyway (ms). */
const ACK_WAIT = 10_000;

/** How long a suspect waits after its neighbours' acks, for the client to flush them (ms). */
const FLUSH_PAUSE = 50;

/**
 * Keeps a message that killed worker processes from killing more, in a worker process. The
 * supervisor counts, per message id, the processes that a message's processing killed (a blocked
 * event loop, a crash, a recycle) and sends the counts to every worker process:
 * - a message whose count reached `maxKills` is dead-lettered (`PoisonMessage`) instead of run;
 * - a message with a non-zero count (a suspect) runs alone: it starts once the messages running
 *   in this process have finished and their acks reached the broker, and nothing else starts
 *   until it is acked or nacked. If it kills the process again, its neighbours are not
 *   redelivered with it (they were acked, or had not started).
 *
 * Installed first in the middleware list, so that the wait does not count against the suspect's
 * time limit.
 */
export class PoisonGuard extends Middleware {
  private readonly counts = new Map<string, number>();
  /** Messages let through, and when they finished running (null while running), until acked or nacked. */
  private readonly inFlight = new Map<MessageProxy, number | null>();
  /** The suspect running alone (or waiting to). */
  private exclusive: MessageProxy | undefined;
  private waiters: (() => void)[] = [];

  /**
   * @param maxKills - the count at which a message is dead-lettered
   * @param counts - the counts known at boot
   * @param logger - where dead-lettering (ERROR) and isolation (WARN) are logged
   */
  constructor(
    private readonly maxKills: number,
    counts: Record<string, number>,
    private readonly logger: Logger,
  ) {
    super();
    this.update(counts);
  }

  /** Merges counts from the supervisor (a count never decreases). */
  update(counts: Record<string, number>): void {
    for (const [id, count] of Object.entries(counts)) {
      if (typeof count === "number" && count > (this.counts.get(id) ?? 0))
        this.counts.set(id, count);
    }
  }

  /** Adds the guard in front of the broker's middleware. */
  install(broker: Broker): void {
    const first = broker.middleware[0];
    broker.addMiddleware(
      this,
      first ? { before: first.constructor as abstract new (...args: never[]) => Middleware } : {},
    );
  }

  override async beforeProcessMessage(_broker: Broker, message: MessageProxy): Promise<void> {
    const kills = this.counts.get(message.messageId) ?? 0;
    if (kills >= this.maxKills) {
      const reason = `PoisonMessage: its processing killed its worker process ${kills} time${kills === 1 ? "" : "s"}`;
      this.logger.error(
        `Dead-lettering message ${message.messageId} (${message.actorName}): ${reason} (bound ${this.maxKills}).`,
      );
      message.fail();
      message.stuffException(
        new PoisonMessage(
          `message ${message.messageId} (${message.actorName}) killed its worker process ${kills} times`,
        ),
      );
      return;
    }
    while (this.blocked()) await this.changed(100);
    if (kills > 0) {
      this.exclusive = message;
      this.logger.warn(
        `Message ${message.messageId} (${message.actorName}) killed a worker process ${kills} time${kills === 1 ? "" : "s"}: ` +
          `running it alone once the ${this.inFlight.size} running message${this.inFlight.size === 1 ? "" : "s"} settled.`,
      );
      if (this.inFlight.size > 0) {
        while (this.unsettled()) await this.changed(100);
        // An ack "done" may still sit in the client's write buffer (amqplib flushes on a later
        // tick): give it time to reach the socket before a loop that may block starts.
        await new Promise((resolve) => setTimeout(resolve, FLUSH_PAUSE));
      }
    }
    this.inFlight.set(message, null);
  }

  override afterProcessMessage(_broker: Broker, message: MessageProxy): void {
    this.finished(message);
  }

  override afterSkipMessage(_broker: Broker, message: MessageProxy): void {
    this.finished(message);
  }

  override afterAck(_broker: Broker, message: MessageProxy): void {
    this.settle(message);
  }

  override afterNack(_broker: Broker, message: MessageProxy): void {
    this.settle(message);
  }

  private finished(message: MessageProxy): void {
    if (this.inFlight.has(message)) this.inFlight.set(message, Date.now());
  }

  private settle(message: MessageProxy): void {
    const known = this.inFlight.delete(message);
    if (this.exclusive === message) this.exclusive = undefined;
    else if (!known) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Whether a suspect holds the process: waiting to start, running, or finished less than ACK_WAIT ago and not acked. */
  private blocked(): boolean {
    const suspect = this.exclusive;
    if (!suspect) return false;
    const finishedAt = this.inFlight.get(suspect);
    if (finishedAt === undefined || finishedAt === null || Date.now() - finishedAt < ACK_WAIT)
      return true;
    this.exclusive = undefined;
    return false;
  }

  /** Whether a message let through is still running, or finished less than ACK_WAIT ago and is not acked yet. */
  private unsettled(): boolean {
    const now = Date.now();
    for (const finishedAt of this.inFlight.values())
      if (finishedAt === null || now - finishedAt < ACK_WAIT) return true;
    return false;
  }

  /** Resolves at the next settle, or after `timeout` ms. */
  private changed(timeout?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = timeout === undefined ? undefined : setTimeout(resolve, timeout);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
