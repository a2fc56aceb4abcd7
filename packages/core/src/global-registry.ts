import type { Broker } from "./broker.js";

// Modules that need the global broker (messages reading results, groups and pipelines without an
// explicit broker) reach it through this registry, so that they do not import the StubBroker
// module and close an import cycle through the Broker base class. `global-broker.ts` fills it.
let provider: (() => Broker) | undefined;

/** Sets the function that returns the global broker (done by `global-broker.ts`). */
export function registerGlobalBrokerProvider(getter: () => Broker): void {
  provider = getter;
}

/** @returns the global broker */
export function currentGlobalBroker(): Broker {
  if (!provider)
    throw new Error("@dq/core: the global broker module is not loaded; import from '@dq/core'");
  return provider();
}
