// The actor module the suite runs under the `dq` command: `dq dist/dq-module.js:broker`. Reads the
// scenario from the JSON file named by env DQ_REL_CONFIG, exports its broker and declares the
// suite's actors on it; records each process's PID in the ledger (to count replacements).
import { readFileSync } from "node:fs";
import type { Broker } from "@dq/core";
import { buildBroker, declareActors } from "./actors.js";
import { ledgerKeys, type ScenarioConfig } from "./config.js";

const file = process.env.DQ_REL_CONFIG;
if (!file) throw new Error("DQ_REL_CONFIG is not set: it names the scenario's JSON file");
const config = JSON.parse(readFileSync(file, "utf8")) as ScenarioConfig;

/** The scenario's broker; `dq` makes it the global broker. */
export const broker: Broker = buildBroker(config.broker, config.resultsUrl);
const { ledger } = declareActors(broker, config);
await ledger.rpush(ledgerKeys(config.ledgerPrefix).boots, String(process.pid));
