// What a worker process checks once the user's modules are loaded: a broker is configured, and
// every queue named with -Q is one that some loaded actor uses.

/** Why `dq` refuses to run on the in-memory broker `getBroker()` made (exit code 2). */
export const NO_BROKER_MESSAGE =
  "no broker configured: DQ_BROKER_URL is not set and the modules set none, so each worker process would " +
  "get its own private in-memory broker and no producer could reach it. Set DQ_BROKER_URL " +
  "(e.g. DQ_BROKER_URL=redis://127.0.0.1:6379), call setBroker() in your module or name a broker export " +
  "(module:broker), or pass --in-memory to run on in-memory brokers anyway.";

/**
 * The queues given with `-Q` that no loaded actor uses (a delay queue `q.DQ` counts as used when
 * `q` is).
 * @param requested - the `-Q` queues, undefined for all
 * @param declared - the broker's declared queues
 */
export function unusedQueues(
  requested: readonly string[] | undefined,
  declared: readonly string[],
): string[] {
  if (!requested) return [];
  const known = new Set(declared);
  return requested.filter(
    (queue) => !known.has(queue) && !known.has(queue.replace(/\.(DQ|XQ)$/, "")),
  );
}

/** The warning for `unusedQueues`, naming them and the queues that are declared. */
export function unusedQueuesWarning(
  unused: readonly string[],
  declared: readonly string[],
): string {
  const list = unused.map((queue) => JSON.stringify(queue)).join(", ");
  return (
    `-Q names ${unused.length === 1 ? "a queue" : "queues"} that no loaded actor uses: ${list}; ` +
    `messages sent there will wait until some worker declares ${unused.length === 1 ? "it" : "them"}. ` +
    `Declared queues: ${declared.join(", ") || "(none)"}.`
  );
}

/** What a booting worker process is doing, for `bootProgress`'s lines. */
export interface BootProgress {
  /** Names the current step, e.g. `importing src/actors.ts`. */
  stage(name: string): void;
  /** Stops the progress lines (booted, or failed). */
  done(): void;
}

/**
 * Logs a line every `every` ms while a worker process boots (a TypeScript module compiled on the
 * fly, a slow import, a broker that takes its time): `Worker process 0 still booting after 10 s:
 * importing src/actors.ts...`.
 */
export function bootProgress(
  log: (line: string) => void,
  index: number,
  every = 5000,
): BootProgress {
  const started = Date.now();
  let current = "starting";
  const timer = setInterval(
    () =>
      log(
        `Worker process ${index} still booting after ${Math.round((Date.now() - started) / 1000)} s: ${current}...`,
      ),
    every,
  );
  timer.unref();
  return {
    stage: (name) => void (current = name),
    done: () => clearInterval(timer),
  };
}
