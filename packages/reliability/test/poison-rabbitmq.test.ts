// Row: a `while (true)` message on RabbitMQ under the `dq` supervisor (see support/poison.ts).
import { it } from "@jest/globals";
import { SHARED_AMQP_URL } from "./support/harness.js";
import { poisonRow } from "./support/poison.js";

it("a poison message on RabbitMQ is dead-lettered after a bound and its neighbours run once", () =>
  poisonRow(51, "rabbitmq", () => ({ kind: "rabbitmq", url: SHARED_AMQP_URL })));
