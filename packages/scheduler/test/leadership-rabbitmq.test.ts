import { expect, it } from "@jest/globals";
import { describeWithServer, uniqueQueueName } from "@dq/core/testing";
import { connect } from "amqplib";
import { RabbitmqSchedulerStore } from "../src/rabbitmq-store.js";
import { AMQP, AMQP_URL } from "./helpers.js";
import { expectEverySlotOnce, runLeadership } from "./leadership.js";

describeWithServer("RabbitMQ", AMQP, () => {
  it("three schedulers on RabbitMQ alone for 40 s: every */5 s slot fired once, the SIGKILLed leader replaced at once", async () => {
    const queue = uniqueQueueName("ticks");
    const prefix = uniqueQueueName("dq-scheduler");
    const connection = await connect(AMQP_URL);
    const channel = await connection.createChannel();
    try {
      const run = await runLeadership(
        {
          TEST_BROKER_URL: AMQP_URL,
          TEST_QUEUE: queue,
          DQ_SCHEDULER_URL: AMQP_URL,
          DQ_SCHEDULER_PREFIX: prefix,
          DQ_SCHEDULER_LEASE_TTL: "3000",
        },
        40_000,
        20_000,
        async () => {
          const fired: string[] = [];
          for (;;) {
            const got = await channel.get(queue, { noAck: true });
            if (!got) break;
            const data = JSON.parse(got.content.toString()) as {
              options: { scheduled_at: string };
            };
            fired.push(data.options.scheduled_at);
          }
          return fired;
        },
      );
      // Figures for reports: DQ_TEST_FIGURES=1.
      if (process.env.DQ_TEST_FIGURES)
        process.stdout.write(
          `rabbitmq leadership: ${run.fired.length} slots fired, takeover ${run.takeoverMs} ms after SIGKILL\n`,
        );
      expectEverySlotOnce(run);
      expect(run.fired.length).toBeGreaterThanOrEqual(7);
      // The token moves when RabbitMQ sees the connection close; the new leader sees it on its next round.
      expect(run.takeoverMs).toBeLessThanOrEqual(3000);
    } finally {
      for (const name of [queue, `${queue}.DQ`, `${queue}.XQ`]) await channel.deleteQueue(name);
      await channel.close();
      await connection.close();
      await new RabbitmqSchedulerStore({ url: AMQP_URL, prefix }).clear();
    }
  }, 120_000);
});
