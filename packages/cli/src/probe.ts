import { ConnectionFailed, type Broker } from "@dq/core";

/** How long a worker waits at boot for its broker before calling it unreachable. */
export const PROBE_TIMEOUT = 10_000;

/**
 * Checks at boot that the broker's server answers, so that an unreachable broker stops the
 * command with exit code 3 instead of workers retrying forever.
 * @throws ConnectionError when the broker cannot be reached
 */
export async function probeBroker(broker: Broker, _queues: readonly string[] | undefined, timeout = PROBE_TIMEOUT): Promise<void> {
  const connect = (broker as { connect?: () => Promise<void> }).connect;
  if (typeof connect !== "function") return;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectionFailed(`no answer within ${timeout} ms`)), timeout);
  });
  try {
    await Promise.race([connect.call(broker), expired]);
  } finally {
    clearTimeout(timer);
  }
}
