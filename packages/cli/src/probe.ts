import { ConnectionError, ConnectionFailed, getLogger, type Broker } from "@dq/core";

/** How long a worker waits at boot for its broker before calling it unreachable. */
export const PROBE_TIMEOUT = 10_000;

/**
 * Checks at boot that the broker's server answers, so that an unreachable broker stops the
 * command with exit code 3 instead of workers retrying forever. The broker contract has no
 * "ping", so this asks for something every broker answers without side effects: `join` with a
 * zero timeout on one consumed queue (it returns, or throws `QueueJoinTimeout`, once the server
 * has answered), after `connect()` for brokers that have one.
 * @throws ConnectionError when the broker cannot be reached (or does not answer in `timeout` ms)
 */
export async function probeBroker(
  broker: Broker,
  queues: readonly string[] | undefined,
  timeout = PROBE_TIMEOUT,
): Promise<void> {
  const queue = (queues ?? broker.getDeclaredQueues())[0];
  const check = async () => {
    const connect = (broker as { connect?: () => Promise<void> }).connect;
    if (typeof connect === "function") await connect.call(broker);
    if (queue === undefined) return;
    try {
      await broker.join(queue, { timeout: 0 });
    } catch (error) {
      if (ConnectionError.isInstance(error)) throw error;
      // QueueJoinTimeout (the queue has messages) or a broker whose join is not meant for this:
      // either way the broker answered.
      getLogger("dq.cli.probe").debug(`Broker probe on ${queue}: ${(error as Error).message}`);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ConnectionFailed(`no answer within ${timeout} ms`)),
      timeout,
    );
  });
  try {
    await Promise.race([check(), expired]);
  } finally {
    clearTimeout(timer);
  }
}
