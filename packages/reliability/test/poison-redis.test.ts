// Row: a `while (true)` message on Redis under the `dq` supervisor (see support/poison.ts).
import { it } from "@jest/globals";
import { RUN, SHARED_REDIS_URL } from "./support/harness.js";
import { poisonRow } from "./support/poison.js";

it("a poison message on Redis is dead-lettered after a bound and its neighbours run once", () =>
  // A short heartbeat timeout and maintenance on every call: a killed process's messages come back within seconds.
  poisonRow(50, "redis", () => ({
    kind: "redis",
    url: SHARED_REDIS_URL,
    namespace: `${RUN}-poison`,
    heartbeatTimeout: 3000,
    maintenanceChance: 1_000_000,
  })));
