/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are read loosely in tests */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { RedisBroker } from "@dq/broker-redis";
import { addressFromUrl, describeWithServer, uniqueQueueName } from "@dq/core/testing";
import { createDashboard, type DashboardHandler } from "../../src/index.js";
import { Client, fakeUiDirectory, serve } from "./helpers/server.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describeWithServer("Redis", addressFromUrl(REDIS_URL, 6379), () => {
  describe("the dashboard's pages and session", () => {
    let broker: RedisBroker;
    let dashboard: DashboardHandler;
    let server: Awaited<ReturnType<typeof serve>>;

    beforeAll(async () => {
      broker = new RedisBroker({
        url: REDIS_URL,
        namespace: uniqueQueueName("dqdash"),
      });
      dashboard = createDashboard({
        brokers: [broker],
        basePath: "/dq",
        uiDirectory: fakeUiDirectory(),
      });
      server = await serve(dashboard);
    });

    afterAll(async () => {
      await server.close();
      await dashboard.close();
      await broker.close();
    });

    it("serves index.html with <base href> set to the mount path, a strict CSP and nosniff", async () => {
      for (const page of [
        "/dq/",
        "/dq",
        "/dq/queues/redis/default",
        "/dq/workers",
        "/dq/messages/redis/q/abc",
      ]) {
        const response = await fetch(server.url + page);
        expect(response.status).toBe(200);
        const html = await response.text();
        expect(html).toContain('<base href="/dq/">');
        expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
        expect(response.headers.get("content-security-policy")).not.toContain("unsafe-inline");
        expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      }
    });

    it("serves the built assets and answers 404 outside its path and for unknown files", async () => {
      const asset = await fetch(`${server.url}/dq/assets/app.js`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-type")).toContain("javascript");
      expect((await fetch(`${server.url}/dq/assets/missing.js`)).status).toBe(404);
      expect((await fetch(`${server.url}/dq/assets/..%2f..%2fpackage.json`)).status).toBe(404);
      expect((await fetch(`${server.url}/elsewhere`)).status).toBe(404);
      const unknown = await fetch(`${server.url}/dq/api/nothing`);
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({
        error: { code: "not_found", message: expect.stringContaining("api/nothing") },
      });
    });

    it("gives a CSRF token bound to an HttpOnly SameSite=Strict cookie, the features and brokers", async () => {
      const client = new Client(`${server.url}/dq/`);
      const response = await client.get("api/session");
      const cookie = response.headers.get("set-cookie")!;
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      expect(cookie).toMatch(/Path=\/dq\//);
      const body = (await response.json()) as any;
      expect(body.csrfToken).toEqual(expect.any(String));
      expect(cookie).toContain(body.csrfToken);
      expect(body.readOnly).toBe(false);
      expect(body.features).toEqual({ results: false, abort: false, scheduler: false });
      expect(body.brokers).toEqual([
        { id: "redis", kind: "redis", url: "redis://127.0.0.1:6379/0" },
      ]);
    });
  });
});
