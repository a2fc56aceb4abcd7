// The browser tests' harness: Debian's chromium driven by playwright-core (which never downloads
// a browser), the dashboard served by the real server code on a free loopback port, and helpers
// to read what the page shows.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "@dq/core/testing";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = process.env.DQ_CHROMIUM ?? "/usr/bin/chromium";

export const chromiumAvailable = (): boolean => existsSync(CHROMIUM);

/** Where the README's screenshots go (committed; each run of the Redis suite rewrites them). */
export const SCREENSHOTS = path.join(__dirname, "..", "..", "docs", "screenshots");

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A headless chromium with a fresh profile, deleted on close. */
export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), `dq-dash-chromium-${process.pid}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

export interface Served {
  /** The dashboard's address, ending with "/" (e.g. http://127.0.0.1:41234/dq/). */
  url: string;
  close(): Promise<void>;
}

/** Serves `handler` with node:http on a free port of 127.0.0.1. */
export async function serve(handler: Handler, basePath = ""): Promise<Served> {
  const port = await freePort();
  const server: Server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}${basePath}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A page that records dialogs and uncaught page errors, for the assertions on them. */
export async function openPage(
  browser: Browser,
): Promise<{ page: Page; dialogs: string[]; errors: string[] }> {
  const page = await browser.context.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss().catch(() => undefined);
  });
  page.on("pageerror", (error) => errors.push(error.message));
  // A Content-Security-Policy violation (an inline script or style the UI should not have).
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text()))
      errors.push(message.text());
  });
  return { page, dialogs, errors };
}

/** Marks the document so a later check can tell that no navigation (reload) happened. */
export async function markDocument(page: Page): Promise<string> {
  const mark = `doc-${Math.random().toString(36).slice(2)}`;
  await page.evaluate((value) => {
    (globalThis as unknown as { __dqMark?: string }).__dqMark = value;
  }, mark);
  return mark;
}

export async function documentMark(page: Page): Promise<string | undefined> {
  return page.evaluate(() => (globalThis as unknown as { __dqMark?: string }).__dqMark);
}

/** The text of one count cell of the overview's queue table. */
export function countCell(page: Page, broker: string, queue: string, count: string) {
  return page.locator(
    `[data-testid=queue-table] tr[data-broker="${broker}"][data-queue="${queue}"] td[data-count="${count}"]`,
  );
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export interface PostAnswer {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** POSTs from inside the page (same origin, with its cookie), optionally with a CSRF header. */
export async function postFromPage(
  page: Page,
  url: string,
  body: unknown,
  csrf?: string,
): Promise<PostAnswer> {
  const answer: { status: number; body: unknown } = await page.evaluate(
    async ({ url, body, csrf }) => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (csrf !== undefined) headers["x-dq-csrf"] = csrf;
      const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
      return { status: response.status, body: await response.json() };
    },
    { url, body, csrf },
  );
  return answer as PostAnswer;
}

/** The session's CSRF token, read from inside the page (which holds the matching cookie). */
export async function sessionToken(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const response = await fetch("api/session");
    return ((await response.json()) as { csrfToken: string }).csrfToken;
  });
}
