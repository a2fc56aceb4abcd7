import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { RedisBroker } from "@dq/broker-redis";
import { addressFromUrl, describeWithServer, uniqueQueueName } from "@dq/core/testing";
import { serve as honoServe } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import {
  createDashboard,
  expressMiddleware,
  fastifyPlugin,
  honoHandler,
  nodeHandler,
  type DashboardHandler,
} from "../../src/index.js";
import { Client, fakeUiDirectory, listen } from "./helpers/server.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describeWithServer("Redis", addressFromUrl(REDIS_URL, 6379), () => {
  describe("adapters: the same dashboard mounted under /dq in each framework", () => {
    const namespace = uniqueQueueName("dqdashad");
    let broker: RedisBroker;
    let dashboard: DashboardHandler;

    beforeAll(() => {
      broker = new RedisBroker({ url: REDIS_URL, namespace });
      broker.declareQueue("jobs");
      dashboard = createDashboard({ brokers: [broker], uiDirectory: fakeUiDirectory() });
    });

    afterAll(async () => {
      await dashboard.close();
      await broker.close();
    });

    /** Checks a page, the session, a JSON read, a CSRF-checked POST and the event stream. */
    async function exercise(base: string): Promise<void> {
      const page = await fetch(`${base}/dq/queues/redis/jobs`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<base href="/dq/">');
      const asset = await fetch(`${base}/dq/assets/app.js`);
      expect(asset.status).toBe(200);
      const client = new Client(`${base}/dq/`);
      const session = await client.session();
      expect(client.cookie).toMatch(/^dq_dashboard_csrf=/);
      expect(session.brokers).toEqual([expect.objectContaining({ id: "redis", kind: "redis" })]);
      const overview = await client.json("api/overview");
      expect(overview.body.queues).toContainEqual(
        expect.objectContaining({ broker: "redis", queue: "jobs", ready: 0 }),
      );
      const bad = await client.json("api/queues/redis/jobs/messages?page=-1");
      expect(bad.status).toBe(400);
      const retry = await client.post("api/queues/redis/jobs/retry", { all: true });
      expect(retry).toEqual({ status: 200, body: { retried: 0 } });
      const refused = await client.post(
        "api/queues/redis/jobs/retry",
        { all: true },
        { "x-dq-csrf": "nope" },
      );
      expect(refused.status).toBe(403);
      // Server-Sent Events: the first overview arrives.
      const controller = new AbortController();
      const events = await fetch(`${base}/dq/api/events`, { signal: controller.signal });
      expect(events.headers.get("content-type")).toContain("text/event-stream");
      const reader = events.body!.getReader();
      let text = "";
      while (!text.includes("event: overview")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString("utf8");
      }
      expect(text).toContain("event: overview");
      controller.abort();
      await reader.cancel().catch(() => undefined);
    }

    it("node:http with basePath", async () => {
      const mounted = createDashboard({
        brokers: [broker],
        uiDirectory: fakeUiDirectory(),
        basePath: "/dq",
      });
      const server = await listen(nodeHandler(mounted));
      try {
        await exercise(server.url);
      } finally {
        await server.close();
        await mounted.close();
      }
    });

    it("Express (express.json() before it, too)", async () => {
      const app = express();
      app.use(express.json());
      app.use("/dq", expressMiddleware(dashboard));
      const server: Server = await new Promise((resolve) => {
        const s = app.listen(0, "127.0.0.1", () => resolve(s));
      });
      try {
        await exercise(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it("Fastify", async () => {
      const app = Fastify();
      await app.register(fastifyPlugin(dashboard), { prefix: "/dq" });
      await app.listen({ port: 0, host: "127.0.0.1" });
      try {
        await exercise(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
      } finally {
        app.server.closeAllConnections();
        await app.close();
      }
    });

    it("Hono on @hono/node-server", async () => {
      const app = new Hono();
      const handler = honoHandler(dashboard, { prefix: "/dq" });
      app.all("/dq", handler as never);
      app.all("/dq/*", handler as never);
      const server = await new Promise<Server>((resolve) => {
        const s = honoServe({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
          resolve(s as Server),
        );
      });
      try {
        await exercise(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });
});
