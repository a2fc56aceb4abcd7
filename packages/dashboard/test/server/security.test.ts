/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are read loosely in tests */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { RedisBroker } from "@dq/broker-redis";
import { RabbitmqBroker } from "@dq/broker-rabbitmq";
import { addressFromUrl, describeWithServer, uniqueQueueName } from "@dq/core/testing";
import {
  createDashboard,
  type DashboardAction,
  type AuthorizeRequest,
  type DashboardHandler,
} from "../../src/index.js";
import { Client, fakeUiDirectory, serve } from "./helpers/server.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describeWithServer("Redis", addressFromUrl(REDIS_URL, 6379), () => {
  const namespace = uniqueQueueName("dqdashsec");
  const opened: { close(): Promise<void> }[] = [];
  let broker: RedisBroker;

  beforeAll(() => {
    broker = new RedisBroker({ url: REDIS_URL, namespace });
    broker.declareQueue("q");
  });

  afterAll(async () => {
    for (const item of opened.reverse()) await item.close();
    await broker.close();
  });

  async function start(options: Partial<Parameters<typeof createDashboard>[0]> = {}) {
    const dashboard: DashboardHandler = createDashboard({
      brokers: [broker],
      uiDirectory: fakeUiDirectory(),
      ...options,
    });
    const server = await serve(dashboard);
    opened.push(dashboard, server);
    return { dashboard, server, client: new Client(`${server.url}/`) };
  }

  describe("CSRF", () => {
    it("refuses a state-changing request without the token, with a token but no cookie, or a forged token", async () => {
      const { client } = await start();
      const bare = await client.post("api/queues/redis/q/purge", { confirm: "q" });
      expect(bare.status).toBe(403);
      expect(bare.body.error.code).toBe("csrf");
      await client.session();
      const noHeader = await client.post(
        "api/queues/redis/q/purge",
        { confirm: "q" },
        { "x-dq-csrf": "" },
      );
      expect(noHeader.status).toBe(403);
      const cookie = client.cookie;
      client.cookie = "";
      const noCookie = await client.post("api/queues/redis/q/purge", { confirm: "q" });
      expect(noCookie.status).toBe(403);
      expect(noCookie.body.error.code).toBe("csrf");
      // A token of the right shape, not signed by this dashboard, in both places.
      client.cookie = "dq_dashboard_csrf=abc.def";
      const forged = await client.post(
        "api/queues/redis/q/purge",
        { confirm: "q" },
        { "x-dq-csrf": "abc.def" },
      );
      expect(forged.status).toBe(403);
      client.cookie = cookie;
      expect((await client.post("api/queues/redis/q/purge", { confirm: "q" })).status).toBe(200);
    });

    it("refuses a request from another origin even with the token", async () => {
      const { client } = await start();
      await client.session();
      const crossOrigin = await client.post(
        "api/queues/redis/q/purge",
        { confirm: "q" },
        { origin: "http://evil.example" },
      );
      expect(crossOrigin.status).toBe(403);
      expect(crossOrigin.body.error.code).toBe("csrf");
      const sameOrigin = await client.post(
        "api/queues/redis/q/purge",
        { confirm: "q" },
        { origin: new URL(client.base).origin },
      );
      expect(sameOrigin.status).toBe(200);
    });

    it("keeps the token of a session that has one", async () => {
      const { client } = await start();
      const first = await client.session();
      const again = await client.get("api/session");
      expect(again.headers.get("set-cookie")).toBeNull();
      expect(((await again.json()) as any).csrfToken).toBe(first.csrfToken);
    });
  });

  describe("read-only mode", () => {
    it("says so in the session and refuses every action with 403 read_only", async () => {
      const abort = { abort: async () => undefined };
      const { client } = await start({ readOnly: true, abort });
      const session = await client.session();
      expect(session.readOnly).toBe(true);
      expect(session.features).toMatchObject({ abort: false });
      for (const [path, body] of [
        ["api/queues/redis/q/retry", { all: true }],
        ["api/queues/redis/q/purge", { confirm: "q" }],
        ["api/messages/redis/q/x/delete", { state: "ready" }],
        ["api/messages/redis/q/x/requeue", { args: [] }],
        ["api/messages/redis/q/x/abort", { mode: "abort" }],
      ] as const) {
        const response = await client.post(path, body);
        expect({ path, status: response.status, code: response.body.error?.code }).toEqual({
          path,
          status: 403,
          code: "read_only",
        });
      }
      expect((await client.json("api/overview")).status).toBe(200);
    });
  });

  describe("authorize", () => {
    it("is asked for each request with its action; false answers 403 forbidden", async () => {
      const asked: [string, DashboardAction][] = [];
      const authorize = (request: AuthorizeRequest, action: DashboardAction) => {
        asked.push([`${request.method} ${request.url}`, action]);
        if (action === "purge") return false;
        return request.headers["x-user"] !== "mallory";
      };
      const { client } = await start({ authorize });
      await client.session();
      const purge = await client.post("api/queues/redis/q/purge", { confirm: "q" });
      expect(purge.status).toBe(403);
      expect(purge.body.error.code).toBe("forbidden");
      expect(asked).toContainEqual(["POST /api/queues/redis/q/purge", "purge"]);
      const retry = await client.post("api/queues/redis/q/retry", { all: true });
      expect(retry.status).toBe(200);
      expect(asked).toContainEqual(["POST /api/queues/redis/q/retry", "retry"]);
      const read = await client.get("api/overview", { "x-user": "mallory" });
      expect(read.status).toBe(403);
      expect(asked).toContainEqual(["GET /api/overview", "read"]);
    });
  });

  describe("broker URLs", () => {
    it("are shown with their password masked, in the session and in errors", async () => {
      // RabbitMQ: the AMQP URL carries guest's password; the management API is given a wrong one,
      // so every read of counts fails, and the errors must not show either password.
      const rabbit = new RabbitmqBroker({ url: "amqp://guest:guest@127.0.0.1:5672" });
      opened.push({ close: () => rabbit.close() });
      const { client } = await start({
        brokers: [
          {
            id: "rabbit",
            broker: rabbit,
            managementUrl: "http://guest:hunter2-secret@127.0.0.1:15672",
          },
        ],
      });
      const session = await client.session();
      expect(session.brokers).toEqual([
        { id: "rabbit", kind: "rabbitmq", url: "amqp://guest:***@127.0.0.1:5672?heartbeat=60" },
      ]);
      const overview = await client.json("api/overview");
      expect(overview.body.errors[0].message).toMatch(/answered 401/);
      for (const path of [
        "api/session",
        "api/overview",
        "api/workers",
        "api/queues/rabbit/q/messages",
      ]) {
        const text = await (await client.get(path)).text();
        expect(text).not.toContain("hunter2");
        expect(text).not.toContain("guest:guest");
      }
    });
  });
});
