#!/usr/bin/env node
// The `dq-scheduler` command: import the user's modules (broker, actors, schedules), then run one
// Scheduler until INT/TERM.
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Broker, DramatiqError, getBroker, getLogger, setBroker } from "@dq/core";
import { runScheduler } from "./run.js";
import type { Scheduler } from "./scheduler.js";

const USAGE = `Usage: dq-scheduler <module> [module...]

Imports the modules, which declare the broker, the actors and the schedules (schedule() from
@dq/scheduler), and runs a scheduler: any number may run, exactly one fires each slot.
A module is a JavaScript file path or a package name; "module:name" names a Broker the module
exports, which becomes the global broker (else DQ_BROKER_URL or the modules' setBroker).

Environment:
  DQ_SCHEDULER_URL            where leadership and state live: redis://... or amqp://...
                              (default: DQ_BROKER_URL)
  DQ_SCHEDULER_PREFIX         key / queue name prefix (default dq-scheduler)
  DQ_SCHEDULER_LEASE_TTL      the leader's lease in ms (default 10000)
  DQ_SCHEDULER_MISFIRE_GRACE  a slot later than this (ms) is missed (default 3 x the lease)
  DQ_LOG_LEVEL                debug, info (default), warn, error or silent

Signals: INT/TERM stop gracefully (the leader resigns at once).
Exit codes: 0 stopped, 1 unexpected error, 2 bad module, argument or schedule (e.g. unknown actor).`;

function fail(code: number, message: string): number {
  process.stderr.write(`dq-scheduler: error: ${message}\n`);
  return code;
}

/** A dq Broker, also from another copy of @dq/core (the user's own install). */
function isBroker(value: unknown): value is Broker {
  if (value instanceof Broker) return true;
  const candidate = value as Record<string, unknown> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    ["enqueue", "getActor", "declareActor", "addMiddleware"].every(
      (key) => typeof candidate[key] === "function",
    )
  );
}

async function importModule(given: string): Promise<void> {
  const match = /^(.+):([A-Za-z_$][\w$]*)$/.exec(given);
  const name = match && !/^[A-Za-z]$/.test(match[1]!) ? match[1]! : given;
  const exportName = name === given ? undefined : match![2];
  const file = path.resolve(name);
  const url = existsSync(file) ? pathToFileURL(file).href : name;
  const namespace = (await import(url)) as Record<string, unknown>;
  if (exportName) {
    const value = namespace[exportName];
    if (!isBroker(value))
      throw new DramatiqError(
        `${JSON.stringify(given)}: export ${JSON.stringify(exportName)} is not a Broker`,
      );
    setBroker(value);
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const unknown = argv.find((arg) => arg.startsWith("-"));
  if (unknown) return fail(2, `unknown option ${JSON.stringify(unknown)}; run dq-scheduler --help`);
  if (argv.length === 0) return fail(2, "expected at least one module; run dq-scheduler --help");
  process.env.DQ_LOG_LEVEL ||= "info";
  const ordered = [...argv.filter((arg) => /:[A-Za-z_$][\w$]*$/.test(arg)), ...argv];
  let scheduler: Scheduler;
  try {
    for (const given of new Set(ordered)) await importModule(given);
    scheduler = await runScheduler();
  } catch (error) {
    if (DramatiqError.isInstance(error)) return fail(2, (error as Error).message);
    return fail(2, `could not load the modules: ${(error as Error)?.stack ?? String(error)}`);
  }
  const logger = getLogger("dq.Scheduler");
  return new Promise<number>((resolve) => {
    let signals = 0;
    const stop = (signal: NodeJS.Signals) => {
      if (++signals > 1) return resolve(1);
      logger.info(`Received ${signal}: stopping the scheduler.`);
      void scheduler
        .close()
        .then(() => getBroker().close())
        .then(
          () => resolve(0),
          () => resolve(1),
        );
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `dq-scheduler: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`,
    );
    process.exit(1);
  },
);
