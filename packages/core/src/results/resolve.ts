import { currentGlobalBroker } from "../global-registry.js";
import type { ResultBackend } from "./result-backend.js";

/** The result backend of the global broker's `Results` middleware. */
export function resolveResultBackend(): ResultBackend {
  return currentGlobalBroker().getResultsBackend();
}
