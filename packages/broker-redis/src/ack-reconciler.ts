import type { Logger } from "@dq/core";

/** A consumer as the reconciler sees it. */
export interface AckHolder {
  /** Whether a fetch of it waits for its reply (its ids are not known yet). */
  readonly isFetching: boolean;
  /** The redis message ids it holds (buffered or delivered, not yet settled). */
  heldIds(): string[];
}

/** What the reconciler needs from its broker. */
export interface AckReconcilerHost {
  readonly logger: Logger;
  /** This broker's consumers of the queue: live ones, and closed ones whose deliveries are still settled through them. */
  holders(queueName: string): AckHolder[];
  /** The members of this broker's ack set of the queue. */
  readAckSet(queueName: string): Promise<string[]>;
  /** Resolves once every hand-off published to this broker so far is received; false when unsure. */
  syncHandOffs(): Promise<boolean>;
  /** Requeues ids of this broker's ack set of the queue (ids no longer in it are skipped). */
  requeue(queueName: string, ids: readonly string[]): Promise<void>;
}

/**
 * Keeps a live Redis broker's ack sets in step with what its consumers hold. While the broker
 * beats, maintenance never returns what its ack sets hold, yet ids can be left there for nobody: a
 * fetch or hand-off reply lost with the connection, a command that timed out but ran, deliveries
 * the worker let go of (the delayed messages it held when its consumer failed, a failed requeue).
 * Each such event bumps an epoch; a queue whose ack set was last reconciled at an older epoch is
 * reconciled before its next fetch, and the ids no consumer holds go back to the queue.
 * @internal
 */
export class AckReconciler {
  private epoch = 0;
  /** Per queue, the epoch its ack set was last reconciled at (0 when never). */
  private readonly reconciled = new Map<string, number>();
  /** Fetches started by the broker's consumers (a reconciliation gives up when one started meanwhile). */
  private fetchStarts = 0;

  constructor(private readonly host: AckReconcilerHost) {}

  /** Some ack set may hold ids no consumer holds: every queue reconciles before its next fetch. */
  markUnreconciled(): void {
    this.epoch++;
  }

  /** Whether `queueName`'s ack set is to be reconciled before the next fetch. */
  needsReconcile(queueName: string): boolean {
    return (this.reconciled.get(queueName) ?? 0) !== this.epoch;
  }

  /** A consumer is starting a fetch of some queue. */
  fetchStarted(): void {
    this.fetchStarts++;
  }

  /**
   * Requeues the ids of `queueName`'s ack set that none of the broker's consumers holds, after the
   * hand-offs already published to the broker are received.
   * @returns false when a fetch of the queue was in flight or started meanwhile (try again later)
   * @throws ConnectionClosed / ConnectionFailed when Redis is lost or unreachable
   */
  async reconcile(queueName: string): Promise<boolean> {
    const epoch = this.epoch;
    if (this.host.holders(queueName).some((holder) => holder.isFetching)) return false;
    const started = this.fetchStarts;
    const members = await this.host.readAckSet(queueName);
    // Hand-offs of ids already in the set were published before the read: receive them first.
    if (!(await this.host.syncHandOffs())) return false;
    const holders = this.host.holders(queueName);
    if (this.fetchStarts !== started || holders.some((holder) => holder.isFetching)) return false;
    const held = new Set(holders.flatMap((holder) => holder.heldIds()));
    const orphans = members.filter((id) => !held.has(id));
    if (orphans.length) {
      this.host.logger.warn(
        `Returning ${orphans.length} message(s) of ${queueName} that this broker's ack set held for no consumer (after a lost connection).`,
      );
      // An id acked meanwhile is no longer in the set: the script's requeue skips it.
      await this.host.requeue(queueName, orphans);
    }
    this.reconciled.set(queueName, epoch);
    return true;
  }
}
