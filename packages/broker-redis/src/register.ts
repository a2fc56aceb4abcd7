/**
 * Registers `redis://` and `rediss://` with core's broker URL registry, so that
 * `DQ_BROKER_URL=redis://...` and `getBroker()` build a `RedisBroker`. Imported by the barrel;
 * listed in package.json `sideEffects`.
 */
import { registerBrokerScheme } from "@dq/core/adapter";
import { RedisBroker } from "./redis-broker.js";

for (const scheme of ["redis", "rediss"])
  registerBrokerScheme(scheme, (url) => new RedisBroker({ url }));
