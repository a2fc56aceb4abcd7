/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are read loosely in tests */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { RabbitmqBroker } from "@dq/broker-rabbitmq";
import { actor, Worker } from "@dq/core";
import {
  addressFromUrl,
  describeWithServer,
  loadWireFixture,
  uniqueQueueName,
  waitFor,
} from "@dq/core/testing";
import { connect } from "amqplib";
import { createDashboard, type DashboardHandler } from "../../src/index.js";
import { attributedConsumers } from "../../src/sources/rabbitmq-management.js";
import { Client, eventually, fakeUiDirectory, serve } from "./helpers/server.js";

const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

describeWithServer("RabbitMQ", addressFromUrl(AMQP_URL, 5672), () => {
  describe("the JSON API on RabbitMQ (management API + basic.get)", () => {
    const queue = uniqueQueueName("dqdash_rmq");
    const pyQueue = uniqueQueueName("dqdash_rmq_py");
    let broker: RabbitmqBroker;
    let dashboard: DashboardHandler;
    let server: Awaited<ReturnType<typeof serve>>;
    let client: Client;
    let worker: Worker | undefined;
    const processed: number[] = [];

    const overviewRow = async (name: string) => {
      const { body } = await client.json("api/overview");
      return body.queues.find((q: any) => q.queue === name);
    };

    beforeAll(async () => {
      broker = new RabbitmqBroker({ url: AMQP_URL });
      const explode = actor(
        (kind: string) => {
          throw new Error(`bad ${kind}`);
        },
        { broker, queueName: queue, actorName: "explode", maxRetries: 0 },
      );
      const add = actor((x: number, y: number) => void processed.push(x + y), {
        broker,
        queueName: queue,
        actorName: "add",
      });
      worker = new Worker(broker, { workerTimeout: 100 });
      await worker.start();
      await explode.send("boom");
      await waitFor(
        async () => (await broker.getQueueMessageCounts(queue)).dead === 1,
        "the dead letter",
        20_000,
      );
      await worker.stop({ timeout: 5000 });
      worker = undefined;
      for (let i = 0; i < 3; i++) await add.send(i, 10);
      // A message as Python Dramatiq publishes it (recorded body), on a queue of its own.
      const fixture = loadWireFixture<{ bodies: Record<string, string> }>("rabbitmq.json");
      broker.declareQueue(pyQueue);
      await broker.enqueueRaw(pyQueue, fixture.bodies.dqfx_rmq!.replace(/dqfx_rmq/g, pyQueue));
      dashboard = createDashboard({ brokers: [broker], uiDirectory: fakeUiDirectory() });
      server = await serve(dashboard);
      client = new Client(`${server.url}/`);
      await client.session();
    }, 90_000);

    afterAll(async () => {
      await worker?.stop({ timeout: 5000 });
      await server?.close();
      await dashboard?.close();
      await broker?.close();
      const connection = await connect(AMQP_URL);
      const channel = await connection.createChannel();
      for (const name of [queue, pyQueue])
        for (const suffix of ["", ".DQ", ".XQ"]) await channel.deleteQueue(name + suffix);
      await connection.close();
    });

    it("counts each queue from the management API", async () => {
      await eventually(
        async () =>
          (await overviewRow(queue))?.ready === 3 && (await overviewRow(queue))?.dead === 1,
        "the management API's counts",
      );
      expect(await overviewRow(queue)).toEqual({
        broker: "rabbitmq",
        queue,
        ready: 3,
        delayed: 0,
        inFlight: 0,
        dead: 1,
      });
      const { body } = await client.json("api/overview");
      expect(body.rates.find((r: any) => r.broker === "rabbitmq").processed).toHaveLength(30);
    });

    it("peeks a page with basic.get and puts the messages back", async () => {
      const page = await client.json(`api/queues/rabbitmq/${queue}/messages?state=ready&limit=2`);
      expect(page.status).toBe(200);
      expect(page.body.messages.map((m: any) => m.argsPreview)).toEqual(["[0,10]", "[1,10]"]);
      const next = await client.json(
        `api/queues/rabbitmq/${queue}/messages?state=ready&limit=2&page=1`,
      );
      expect(next.body.messages.map((m: any) => m.argsPreview)).toEqual(["[2,10]"]);
      const newest = await client.json(
        `api/queues/rabbitmq/${queue}/messages?state=ready&order=newest&limit=1`,
      );
      expect(newest.body.messages.map((m: any) => m.argsPreview)).toEqual(["[2,10]"]);
      // Nothing was taken.
      await eventually(async () => (await overviewRow(queue))?.ready === 3, "3 ready again");
      expect(
        (await client.json(`api/queues/rabbitmq/${queue}/messages?limit=200&page=20`)).status,
      ).toBe(400);
    });

    it("shows a message published as Python Dramatiq does, args decoded", async () => {
      const page = await client.json(`api/queues/rabbitmq/${pyQueue}/messages`);
      expect(page.body.messages).toHaveLength(1);
      expect(page.body.messages[0]).toMatchObject({
        id: "b28d9176-5ffe-4ce6-a8c1-472e8c4d6403",
        actor: "rmq_add",
        argsPreview: "[1,2]",
      });
      const detail = await client.json(
        `api/messages/rabbitmq/${pyQueue}/${page.body.messages[0].id}`,
      );
      expect(detail.body.message).toMatchObject({
        actor_name: "rmq_add",
        args: [1, 2],
        kwargs: {},
      });
    });

    it("shows a dead letter with when it died, and retries it (publish, then ack)", async () => {
      const dead = await client.json(`api/queues/rabbitmq/${queue}/messages?state=dead`);
      expect(dead.body.messages).toHaveLength(1);
      const letter = dead.body.messages[0];
      expect(letter).toMatchObject({ actor: "explode", argsPreview: '["boom"]', state: "dead" });
      expect(letter.failedAt).toBeGreaterThan(Date.now() - 300_000);
      const retried = await client.post(`api/queues/rabbitmq/${queue}/retry`, { ids: [letter.id] });
      expect(retried).toEqual({ status: 200, body: { retried: 1 } });
      const counts = await broker.getQueueMessageCounts(queue);
      expect(counts).toMatchObject({ ready: 4, dead: 0 });
    });

    it("deletes one message and keeps the others in order", async () => {
      const page = await client.json(`api/queues/rabbitmq/${queue}/messages?limit=10`);
      const second = page.body.messages[1];
      const deleted = await client.post(`api/messages/rabbitmq/${queue}/${second.id}/delete`, {
        state: "ready",
      });
      expect(deleted.body).toEqual({ deleted: true });
      const after = await client.json(`api/queues/rabbitmq/${queue}/messages?limit=10`);
      expect(after.body.messages.map((m: any) => m.id)).toEqual(
        page.body.messages.filter((m: any) => m.id !== second.id).map((m: any) => m.id),
      );
    });

    it("lists the consumers of a running worker, then purges the queue", async () => {
      worker = new Worker(broker, { workerTimeout: 100, queues: [pyQueue] });
      // A worker consuming only the Python queue: its actor is unknown here, so it stays put.
      await worker.start();
      await eventually(async () => {
        const { body } = await client.json("api/workers");
        return body.workers.some((w: any) => w.queues.includes(pyQueue));
      }, "the worker's consumers");
      const { body } = await client.json("api/workers");
      const found = body.workers.find((w: any) => w.queues.includes(pyQueue));
      expect(found).toMatchObject({
        broker: "rabbitmq",
        host: expect.any(String),
        pid: process.pid,
        startedAt: expect.any(Number),
      });
      await worker.stop({ timeout: 5000 });
      worker = undefined;
      const purged = await client.post(`api/queues/rabbitmq/${queue}/purge`, { confirm: queue });
      expect(purged.status).toBe(200);
      expect(purged.body.purged).toBe(3);
    });
  });
});

describe("the management API's consumer list", () => {
  it("leaves out a consumer whose channel statistics have not arrived yet", () => {
    // The shape RabbitMQ 3.10 answers in the seconds after basic.consume: channel_details is [].
    const known = {
      consumer_tag: "amq.ctag-known",
      prefetch_count: 8,
      queue: { name: "default", vhost: "/" },
      channel_details: {
        name: "127.0.0.1:40000 -> 127.0.0.1:5672 (1)",
        connection_name: "127.0.0.1:40000 -> 127.0.0.1:5672",
        peer_host: "127.0.0.1",
        peer_port: 40000,
      },
    };
    const pending = { ...known, consumer_tag: "amq.ctag-new", channel_details: [] };
    expect(attributedConsumers([known, pending, { consumer_tag: "x" }])).toEqual([known]);
  });
});
