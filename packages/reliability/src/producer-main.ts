// A producer child of the suite: sends its plan, spread over `durationMs`, retrying a send that
// fails (same message, same id) until `retryForMs` passes; writes the ids of the sends that
// resolved to `sentFile` synchronously and exits at once with process.exit(0), as a one-shot
// producer (a script, a serverless function) does. A send counts as sent only once it resolved:
// what `await send()` promises is what the suite holds the broker to.
import { writeFileSync } from "node:fs";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { DecodeError, DramatiqError, InvalidArgumentsError, InvalidOptionError } from "@dq/core";
import { buildBroker, declareActors } from "./actors.js";
import type { ProducerChildConfig } from "./config.js";

const config = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as ProducerChildConfig;

async function main(): Promise<void> {
  // With the result backend too: `ok` declares storeResults, which only Results knows.
  const broker = buildBroker(config.broker, config.resultsUrl);
  const { actors, ledger } = declareActors(broker, config);
  ledger.disconnect();
  // The suite went away (killed, interrupted): nothing to report to, so stop at once.
  process.on("disconnect", () => process.exit(1));
  const sent: string[] = [];
  let failures = 0;
  let given = 0;
  let refused = 0;
  const started = Date.now();
  const step = config.plan.length > 0 ? config.durationMs / config.plan.length : 0;
  for (const [index, planned] of config.plan.entries()) {
    const due = started + index * step;
    if (due > Date.now()) await sleep(due - Date.now());
    // Options as planned, unchecked: the suite sends invalid ones on purpose. One refused at once
    // (a named error before anything is enqueued) is not sent, and not retried.
    let message;
    try {
      message = actors[planned.actor].messageWithOptions({
        ...(planned.options ?? {}),
        args: [index],
      });
    } catch {
      refused++;
      continue;
    }
    const giveUpAt = Date.now() + config.retryForMs;
    for (;;) {
      try {
        await broker.enqueue(message, planned.delay ? { delay: planned.delay } : {});
        sent.push(message.messageId);
        break;
      } catch (error) {
        // A broker's error (connection lost, server still loading) is worth retrying; an invalid
        // message (bad option or argument, something that does not encode) is refused for good.
        const permanent =
          !DramatiqError.isInstance(error) ||
          InvalidOptionError.isInstance(error) ||
          InvalidArgumentsError.isInstance(error) ||
          DecodeError.isInstance(error);
        if (permanent) {
          refused++;
          break;
        }
        failures++;
        if (Date.now() >= giveUpAt) {
          given++;
          break;
        }
        await sleep(200);
      }
    }
  }
  if (config.closeBeforeExit) await broker.close();
  writeFileSync(config.sentFile, `${sent.join("\n")}\n`);
  process.send?.({ type: "done", sent: sent.length, failures, given, refused });
  // Unless asked to close, no close and no wait: whatever `await send()` resolved for must already be the broker's.
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `producer child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
