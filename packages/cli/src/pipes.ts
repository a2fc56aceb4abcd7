// Child processes outlive a SIGKILLed supervisor for as long as they take to drain: writing to a
// pipe or IPC channel whose reader is gone must not crash them (EPIPE).

/**
 * Makes errors on stdout and stderr (EPIPE once the reader is gone) harmless: the lines are lost,
 * the process goes on. Without a listener, Node turns such an error into an uncaught exception.
 */
export function guardPipes(): void {
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
}

/** Sends `message` to the supervisor when the IPC channel is up; a send failing (channel gone) is ignored. */
export function sendToSupervisor(message: object): void {
  if (!process.connected || !process.send) return;
  try {
    process.send(message, undefined, {}, () => undefined);
  } catch {
    // The channel closed between the check and the send.
  }
}
