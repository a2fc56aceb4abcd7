/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are read loosely in tests */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { RedisBroker } from "@dq/broker-redis";
import { actor, Message, StubResultBackend } from "@dq/core";
import { addressFromUrl, describeWithServer, uniqueQueueName } from "@dq/core/testing";
import { createDashboard, type DashboardHandler, type ScheduleInfo } from "../../src/index.js";
import { Client, fakeUiDirectory, serve } from "./helpers/server.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A scheduler shaped like @dq/scheduler's, keeping its schedules in memory. */
class MemoryScheduler {
  readonly schedules: ScheduleInfo[] = [
    {
      name: "nightly",
      cron: "0 3 * * *",
      tz: "UTC",
      actor: "report",
      enabled: true,
      paused: false,
    },
    { name: "tick", everyMs: 60_000, actor: "tick", enabled: true, paused: false },
  ];
  async list(): Promise<ScheduleInfo[]> {
    return this.schedules.map((s) => ({ ...s }));
  }
  async pause(name: string): Promise<void> {
    this.schedules.find((s) => s.name === name)!.paused = true;
  }
  async resume(name: string): Promise<void> {
    this.schedules.find((s) => s.name === name)!.paused = false;
  }
}

/** An abort backend shaped like @dq/abort's, recording requests. */
class RecordingAbort {
  readonly requests: [string, { mode: "cancel" | "abort" }][] = [];
  async abort(messageId: string, options: { mode: "cancel" | "abort" }): Promise<void> {
    this.requests.push([messageId, options]);
  }
}

describeWithServer("Redis", addressFromUrl(REDIS_URL, 6379), () => {
  describe("abort, scheduler and result backend hooks", () => {
    const namespace = uniqueQueueName("dqdashhooks");
    let broker: RedisBroker;
    let dashboard: DashboardHandler;
    let server: Awaited<ReturnType<typeof serve>>;
    let client: Client;
    const scheduler = new MemoryScheduler();
    const abort = new RecordingAbort();
    const results = new StubResultBackend();
    let sent: Message;

    beforeAll(async () => {
      broker = new RedisBroker({ url: REDIS_URL, namespace });
      const add = actor((x: number, y: number) => x + y, {
        broker,
        queueName: "jobs",
        actorName: "add",
      });
      sent = await add.send(1, 2);
      await results.storeResult(sent, 3, 60_000);
      dashboard = createDashboard({
        brokers: [broker],
        uiDirectory: fakeUiDirectory(),
        scheduler,
        abort,
        resultBackend: results,
      });
      server = await serve(dashboard);
      client = new Client(`${server.url}/`);
    });

    afterAll(async () => {
      await server.close();
      await dashboard.close();
      await broker.flush("jobs");
      await broker.close();
    });

    it("announces the features in the session", async () => {
      const session = await client.session();
      expect(session.features).toEqual({ results: true, abort: true, scheduler: true });
    });

    it("lists schedules and pauses / resumes one", async () => {
      expect((await client.json("api/schedules")).body.schedules.map((s: any) => s.name)).toEqual([
        "nightly",
        "tick",
      ]);
      expect(await client.post("api/schedules/nightly/pause", {})).toEqual({
        status: 200,
        body: { ok: true },
      });
      expect(scheduler.schedules[0]!.paused).toBe(true);
      expect((await client.post("api/schedules/nightly/resume", {})).status).toBe(200);
      expect(scheduler.schedules[0]!.paused).toBe(false);
      expect((await client.post("api/schedules/unknown/pause", {})).status).toBe(404);
    });

    it("aborts a message by its Dramatiq message id", async () => {
      const page = await client.json("api/queues/redis/jobs/messages");
      const stored = page.body.messages[0];
      expect(stored.id).not.toBe(sent.messageId); // Redis stores it under redis_message_id
      expect(
        await client.post(`api/messages/redis/jobs/${stored.id}/abort`, { mode: "cancel" }),
      ).toEqual({
        status: 200,
        body: { ok: true },
      });
      expect(abort.requests).toEqual([[sent.messageId, { mode: "cancel" }]]);
      expect(
        (await client.post(`api/messages/redis/jobs/${stored.id}/abort`, { mode: "later" })).status,
      ).toBe(400);
    });

    it("shows the stored result on the message page", async () => {
      const page = await client.json("api/queues/redis/jobs/messages");
      const detail = await client.json(`api/messages/redis/jobs/${page.body.messages[0].id}`);
      expect(detail.body.result).toEqual({ state: "stored", value: 3 });
    });

    it("answers 404 for schedules and abort when they are not configured", async () => {
      const plain = createDashboard({ brokers: [broker], uiDirectory: fakeUiDirectory() });
      const plainServer = await serve(plain);
      try {
        const other = new Client(`${plainServer.url}/`);
        await other.session();
        expect((await other.json("api/schedules")).status).toBe(404);
        expect(
          (await other.post("api/messages/redis/jobs/x/abort", { mode: "abort" })).status,
        ).toBe(404);
      } finally {
        await plainServer.close();
        await plain.close();
      }
    });
  });
});
