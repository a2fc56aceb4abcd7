/** One row of the reliability table. */
export interface Row {
  /** What happened, e.g. "Redis restart x2 during production and consumption, 10 % delayed". */
  scenario: string;
  broker: "redis" | "rabbitmq";
  /** Sends whose `await send()` resolved. */
  sent: number;
  /** Sent messages whose actor ran to completion at least once. */
  processed: number;
  /** Completed invocations (or attempts of failing actors) beyond the first of each. */
  duplicates: number;
  /** Sent messages found in the dead-letter queue at the end. */
  deadLettered: number;
  /** Sent messages neither processed (with their result, where results are stored) nor dead-lettered. */
  lost: number;
  /** Wall-clock seconds of the scenario. */
  seconds: number;
  /** What else was seen (restarts, kills, attempts, expectations that did not hold). */
  notes: string;
}

/** The ledger and dead-letter contents of one scenario, by message id. */
export interface Tally {
  /** Ids of the sends that resolved. */
  sent: readonly string[];
  /** One id per completed invocation. */
  done: readonly string[];
  /** One `id:retries` per attempt of a failing or poison actor. */
  attempts: readonly string[];
  /** Ids found in the dead-letter queue. */
  dead: readonly string[];
  /** When the scenario stores results: the ids whose result was found. A processed message without one is lost. */
  results?: ReadonlySet<string>;
}

/** Counts of a tally, and the ids lost. */
export interface Counts {
  sent: number;
  processed: number;
  duplicates: number;
  deadLettered: number;
  lost: number;
  lostIds: string[];
  /** Completed or dead ids that were never reported sent (a send that failed yet reached the broker). */
  unexpected: number;
}

/** Counts a tally exactly: duplicates are repeated ledger entries, lost the sent ids accounted for nowhere. */
export function count(tally: Tally): Counts {
  const sent = new Set(tally.sent);
  const done = new Set(tally.done);
  const dead = new Set(tally.dead);
  const attempts = new Set(tally.attempts);
  const lostIds = [...sent].filter(
    (id) => !dead.has(id) && !(done.has(id) && (!tally.results || tally.results.has(id))),
  );
  const known = (id: string) => sent.has(id);
  return {
    sent: sent.size,
    processed: [...done].filter(known).length,
    duplicates: tally.done.length - done.size + (tally.attempts.length - attempts.size),
    deadLettered: [...dead].filter(known).length,
    lost: lostIds.length,
    lostIds,
    unexpected: [...done, ...dead].filter((id) => !known(id)).length,
  };
}
