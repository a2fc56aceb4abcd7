// A worker child of the suite: builds the scenario's broker and actors, runs a dq Worker, says
// "ready" over IPC once it consumes, and stops gracefully on SIGTERM (exit 0). The suite also
// SIGKILLs these on purpose.
import { readFileSync } from "node:fs";
import { Worker } from "@dq/core";
import { buildBroker, declareActors } from "./actors.js";
import { ledgerKeys, type WorkerChildConfig } from "./config.js";

const config = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as WorkerChildConfig;

async function main(): Promise<void> {
  const broker = buildBroker(config.broker, config.resultsUrl);
  const { ledger } = declareActors(broker, config);
  await ledger.rpush(ledgerKeys(config.ledgerPrefix).boots, String(process.pid));
  const worker = new Worker(broker, { queues: [config.queue], concurrency: config.concurrency });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await worker.stop({ timeout: 10_000 });
    await broker.close();
    ledger.disconnect();
    process.exit(0);
  };
  // The suite went away (killed, interrupted): nothing to report to, so stop at once.
  process.on("disconnect", () => process.exit(1));
  process.on("SIGTERM", () => {
    stop().catch(() => process.exit(1));
  });
  await worker.start();
  process.send?.({ type: "ready" });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `worker child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
