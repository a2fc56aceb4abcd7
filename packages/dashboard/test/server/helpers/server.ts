/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are read loosely in tests */
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { waitFor } from "@dq/core/testing";
import type { DashboardHandler } from "../../../src/index.js";
import { nodeHandler } from "../../../src/index.js";

/** A UI build stand-in (the real one is built by the UI's build step): index.html and one asset. */
export function fakeUiDirectory(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "dq-dashboard-ui-"));
  mkdirSync(path.join(dir, "assets"));
  writeFileSync(
    path.join(dir, "index.html"),
    '<!doctype html><html><head><meta charset="utf-8"><title>dq</title></head><body><div id="app"></div><script type="module" src="assets/app.js"></script></body></html>',
  );
  writeFileSync(path.join(dir, "assets", "app.js"), "export {};\n");
  return dir;
}

/** Serves a handler on a free loopback port. */
export async function listen(
  handler: (
    req: import("node:http").IncomingMessage,
    res: import("node:http").ServerResponse,
  ) => void,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serves a dashboard with node:http. */
export function serve(dashboard: DashboardHandler) {
  return listen(nodeHandler(dashboard));
}

/** A browser-like client: keeps the cookie, sends the CSRF header once it has the session. */
export class Client {
  cookie = "";
  token = "";
  constructor(readonly base: string) {}

  async session(): Promise<Record<string, unknown>> {
    const response = await this.get("api/session");
    const setCookie = response.headers.get("set-cookie");
    if (setCookie) this.cookie = setCookie.split(";")[0]!;
    const body = (await response.json()) as Record<string, unknown>;
    this.token = String(body.csrfToken);
    return body;
  }

  get(relative: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(new URL(relative, this.base), {
      headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...headers },
    });
  }

  async json(relative: string): Promise<{ status: number; body: any }> {
    const response = await this.get(relative);
    return { status: response.status, body: await response.json() };
  }

  async post(
    relative: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: any }> {
    const response = await fetch(new URL(relative, this.base), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(this.token ? { "x-dq-csrf": this.token } : {}),
        ...headers,
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // kept as text
    }
    return { status: response.status, body: parsed };
  }
}

/** `waitFor` polling every `interval` ms (slow sources: the management API) for up to 25 s. */
export function eventually(
  condition: () => Promise<boolean>,
  what: string,
  timeout = 25_000,
  interval = 500,
): Promise<void> {
  return waitFor(condition, what, timeout, interval);
}
