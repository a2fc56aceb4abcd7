// The dashboard in a real headless Chromium, on real Redis and real RabbitMQ, with a real dq
// Worker consuming in this process: counts, a dead letter retried and processed while the page
// updates itself (no reload), payloads rendered as text, CSRF, read-only mode, a Python message.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import {
  addressFromUrl,
  describeWithServer,
  loadWireFixture,
  restoreRedisRecording,
  type RecordedRedisKey,
} from "@dq/core/testing";
import { connect } from "amqplib";
import { Redis } from "ioredis";
import type { Page } from "playwright-core";
import {
  CHROMIUM,
  chromiumAvailable,
  countCell,
  documentMark,
  launchChromium,
  markDocument,
  openPage,
  postFromPage,
  screenshot,
  sessionToken,
  type Browser,
  type Served,
} from "./harness.js";
import { AMQP_URL, REDIS_URL, startScenario, type Kind, type Scenario } from "./scenario.js";

jest.setTimeout(120_000);

const XSS_ARGS = ["<img src=x onerror=window.__xss=1>", "</script><script>window.__xss=2</script>"];

/** Polls `read` every 100 ms until it returns `expected`. */
async function until<T>(read: () => Promise<T>, expected: T, what: string, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  let last: T | undefined;
  for (;;) {
    last = await read().catch(() => undefined);
    if (last === expected) return;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeout} ms waiting for ${what}: last saw ${String(last)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function untilTrue(check: () => boolean | Promise<boolean>, what: string, timeout = 30_000) {
  await until(async () => Boolean(await check()), true, what, timeout);
}

const cellText = (page: Page, s: Scenario, queue: string, count: string) => () =>
  countCell(page, s.brokerId, queue, count).innerText({ timeout: 1000 });

const xssFlag = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { __xss?: unknown }).__xss);

// Without chromium the suites are skipped locally with the reason; under CI they fail.
const withBrowser = chromiumAvailable() || Boolean(process.env.CI);
let browser: Browser | undefined;

beforeAll(async () => {
  if (withBrowser) browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

/** An in-memory stand-in with the scheduler hook's shape (the real @dq/scheduler is separate). */
function schedulesHook() {
  const now = Date.now();
  const schedules = [
    {
      name: "nightly-report",
      cron: "0 3 * * *",
      tz: "UTC",
      actor: "report",
      enabled: true,
      paused: false,
      nextRun: now + 3_600_000,
      lastRun: now - 82_800_000,
      lastOutcome: "enqueued",
    },
    {
      name: "heartbeat",
      everyMs: 60_000,
      actor: "ping",
      enabled: true,
      paused: false,
      nextRun: now + 30_000,
      lastRun: now - 30_000,
      lastOutcome: "enqueued",
    },
  ];
  return {
    schedules,
    list: async () =>
      schedules.map((s) => ({
        ...s,
        nextRun: Date.now() + (s.everyMs ?? 3_600_000) / 2,
        lastRun: Date.now() - (s.everyMs ?? 82_800_000) / 2,
      })),
    pause: async (name: string) => void (schedules.find((s) => s.name === name)!.paused = true),
    resume: async (name: string) => void (schedules.find((s) => s.name === name)!.paused = false),
  };
}

function suite(kind: Kind, url: string, port: number) {
  if (!withBrowser) {
    describe.skip(`dashboard in Chromium on ${kind} (skipped: no ${CHROMIUM}; run scripts/services.sh)`, () => {
      it("needs chromium", () => undefined);
    });
    return;
  }
  describeWithServer(`dashboard in Chromium on ${kind}`, addressFromUrl(url, port), () => {
    let s: Scenario;
    let dash: Served;
    let readOnly: Served;
    const aborts: { id: string; mode: string }[] = [];
    const scheduler = schedulesHook();
    const shots = kind === "redis";

    beforeAll(async () => {
      s = await startScenario(kind);
      dash = await s.dashboard({
        abort: { abort: async (id, { mode }) => void aborts.push({ id, mode }) },
        scheduler,
      });
      readOnly = await s.dashboard({ readOnly: true });
      for (const n of [1, 2, 3]) await s.hold.send({ order: n, note: `parked message ${n}` });
      await s.hold.sendWithOptions({ args: ["later"], delay: 600_000 });
      await s.ok.send(1);
      await s.ok.send(2);
      await s.flaky.send("first");
      await s.stubborn.send("twice");
      await untilTrue(() => s.state.flakyRuns === 1 && s.state.okDone === 2, "the worker's runs");
    });

    afterAll(async () => {
      await s?.close();
    });

    it("shows each queue's counts on the overview", async () => {
      const { page, errors } = await openPage(browser!);
      await page.goto(dash.url);
      await until(cellText(page, s, s.parked, "ready"), "3", "3 ready in the parked queue");
      await until(cellText(page, s, s.parked, "delayed"), "1", "1 delayed in the parked queue");
      await until(cellText(page, s, s.work, "dead"), "2", "the failed messages dead-lettered");
      await until(cellText(page, s, s.work, "ready"), "0", "the worker's queue drained");
      if (kind === "redis")
        await untilTrue(
          async () =>
            /Processed: \d+\/min · [1-9]\d* in 30 min/.test(
              await page.locator(".legend.processed").innerText(),
            ),
          "the processed messages on the per-minute chart",
        );
      if (shots) {
        await page.waitForTimeout(600);
        await screenshot(page, "overview");
      }
      expect(errors).toEqual([]);
      await page.close();
    });

    it("retries a dead letter from its page: processed, and the counts change without a reload", async () => {
      const { page, errors } = await openPage(browser!);
      await page.goto(dash.url);
      await until(cellText(page, s, s.work, "dead"), "2", "two dead letters");
      const mark = await markDocument(page);

      await countCell(page, s.brokerId, s.work, "dead").locator("a").click();
      const rows = page.locator("[data-testid=message-table] tbody tr[data-id]");
      await until(() => rows.count(), 2, "the dead letters listed");
      if (shots) await screenshot(page, "queue");

      await rows.filter({ hasText: "flaky" }).locator("td.mono a").click();
      await until(
        () => page.locator("[data-testid=message-state]").innerText({ timeout: 1000 }),
        "dead",
        "the message page of the dead letter",
      );
      await expect(page.locator("[data-testid=message-args]").innerText()).resolves.toBe(
        JSON.stringify(["first"], null, 2),
      );

      s.state.fail = false;
      await page.locator("[data-testid=retry]").click();
      await untilTrue(() => s.state.flakyDone === 1, "the retried message processed by the worker");
      await untilTrue(
        async () =>
          (await page.locator("[data-testid=message-gone]").count()) === 1 ||
          (await page.locator("[data-testid=message-state]").innerText({ timeout: 500 })) !==
            "dead",
        "the message page updated after the retry",
      );

      await page.locator("header nav a", { hasText: "Overview" }).click();
      await until(cellText(page, s, s.work, "dead"), "1", "one dead letter left on the overview");

      // Pushed by the server (SSE): a new failure shows up on the open overview by itself.
      s.state.fail = true;
      await s.flaky.send("second");
      await until(cellText(page, s, s.work, "dead"), "2", "the new dead letter pushed live");

      expect(await documentMark(page)).toBe(mark);
      expect(errors).toEqual([]);
      await page.close();
    });

    it("shows a dead letter's retries and the traceback of its last failure", async () => {
      const { page } = await openPage(browser!);
      await page.goto(`${dash.url}queues/${s.brokerId}/${s.work}?tab=dead`);
      const row = page.locator("[data-testid=message-table] tbody tr", { hasText: "stubborn" });
      await until(() => row.count(), 1, "the stubborn dead letter listed");
      await row.locator("td.mono a").click();
      await until(
        () => page.locator("[data-testid=message-state]").innerText({ timeout: 1000 }),
        "dead",
        "the message page",
      );
      await expect(page.locator("[data-testid=traceback]").innerText()).resolves.toContain(
        "stubborn failed: twice",
      );
      await expect(page.locator("[data-testid=message-retries]").innerText()).resolves.toBe("1");
      if (shots) await screenshot(page, "message");
      await page.close();
    });

    it("renders payloads as text: nothing in a message's args executes", async () => {
      const { page, dialogs, errors } = await openPage(browser!);
      await s.hold.send(...XSS_ARGS);
      await page.goto(`${dash.url}queues/${s.brokerId}/${s.parked}?order=newest`);
      const row = page.locator("[data-testid=message-table] tbody tr", { hasText: "<img src=x" });
      await until(() => row.count(), 1, "the message with markup in its args listed");
      await expect(row.innerText()).resolves.toContain("</script>");
      await row.locator("td.mono a").click();
      const args = page.locator("[data-testid=message-args]");
      await until(
        () => args.innerText({ timeout: 1000 }),
        JSON.stringify(XSS_ARGS, null, 2),
        "args",
      );
      await expect(page.locator("[data-testid=raw-json]").textContent()).resolves.toContain(
        "</script><script>window.__xss=2</script>",
      );

      await page.goto(`${dash.url}search?q=onerror&field=args`);
      await until(
        () => page.locator("[data-testid=message-table] tbody tr[data-id]").count(),
        1,
        "the args search finding it",
      );
      if (shots) await screenshot(page, "search");

      expect(await page.locator("main img").count()).toBe(0);
      expect(await xssFlag(page)).toBeUndefined();
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
      await page.close();
    });

    it("refuses a state-changing request without the CSRF token", async () => {
      const { page } = await openPage(browser!);
      await page.goto(dash.url);
      await page.locator("[data-testid=queue-table]").waitFor();
      const retry = `api/queues/${s.brokerId}/${s.work}/retry`;

      const without = await postFromPage(page, retry, { all: true });
      expect(without.status).toBe(403);
      expect(without.body.error?.code).toBe("csrf");
      const wrong = await postFromPage(page, retry, { all: true }, "not-the-token");
      expect(wrong.status).toBe(403);
      expect(wrong.body.error?.code).toBe("csrf");
      // The same request from outside the page (no cookie), with a token copied from it.
      const token = await sessionToken(page);
      const outside = await fetch(new URL(retry, dash.url), {
        method: "POST",
        headers: { "content-type": "application/json", "x-dq-csrf": token },
        body: JSON.stringify({ all: true }),
      });
      expect(outside.status).toBe(403);
      // Still dead: nothing was retried.
      expect(await countCell(page, s.brokerId, s.work, "dead").innerText()).toBe("2");

      // The control: with the page's token the same kind of request goes through.
      const withToken = await postFromPage(
        page,
        `api/queues/${s.brokerId}/${s.parked}/retry`,
        { all: true },
        token,
      );
      expect(withToken.status).toBe(200);
      expect(withToken.body).toEqual({ retried: 0 });
      await page.close();
    });

    it("read-only mode hides every action and the API refuses them", async () => {
      const { page } = await openPage(browser!);
      await page.goto(`${readOnly.url}queues/${s.brokerId}/${s.work}?tab=dead`);
      await page.locator("[data-testid=read-only]").waitFor();
      const rows = page.locator("[data-testid=message-table] tbody tr[data-id]");
      await until(() => rows.count(), 2, "the dead letters listed read-only");
      expect(await page.locator("[data-testid=queue-actions]").count()).toBe(0);
      expect(await page.locator("main button, main input[type=checkbox]").count()).toBe(0);

      await rows.first().locator("td.mono a").click();
      await page.locator("[data-testid=message-state]").waitFor();
      expect(await page.locator("[data-testid=message-actions]").count()).toBe(0);
      expect(await page.locator("main button, main textarea").count()).toBe(0);

      const token = await sessionToken(page);
      const refused = await postFromPage(
        page,
        `api/queues/${s.brokerId}/${s.work}/retry`,
        { all: true },
        token,
      );
      expect(refused.status).toBe(403);
      expect(refused.body.error?.code).toBe("read_only");
      const purge = await postFromPage(
        page,
        `api/queues/${s.brokerId}/${s.parked}/purge`,
        { confirm: s.parked },
        token,
      );
      expect(purge.status).toBe(403);
      await page.goto(readOnly.url);
      await until(cellText(page, s, s.work, "dead"), "2", "the dead letters still there");
      await until(cellText(page, s, s.parked, "ready"), "4", "the parked messages still there");
      await page.close();
    });

    it("asks the abort hook from the message page and pauses a schedule", async () => {
      const { page } = await openPage(browser!);
      await page.goto(`${dash.url}queues/${s.brokerId}/${s.parked}`);
      const rows = page.locator("[data-testid=message-table] tbody tr[data-id]");
      await untilTrue(async () => (await rows.count()) >= 1, "parked messages listed");
      await rows.first().locator("td.mono a").click();
      await page.locator("[data-testid=cancel]").click();
      await untilTrue(() => aborts.length === 1, "the abort hook called");
      expect(aborts[0]!.mode).toBe("cancel");

      await page.locator("header nav a", { hasText: "Schedules" }).click();
      const nightly = page.locator(
        '[data-testid=schedules-table] tr[data-schedule="nightly-report"]',
      );
      await until(
        () => nightly.locator(".badge").innerText({ timeout: 1000 }),
        "active",
        "schedule",
      );
      await nightly.locator("button", { hasText: "Pause" }).click();
      await until(() => nightly.locator(".badge").innerText({ timeout: 1000 }), "paused", "paused");
      expect(scheduler.schedules[0]!.paused).toBe(true);
      if (shots) await screenshot(page, "schedules");

      await page.locator("header nav a", { hasText: "Workers" }).click();
      const workers = page.locator("[data-testid=workers-table] tbody tr");
      await untilTrue(async () => (await workers.count()) >= 1, "the workers listed");
      if (shots) await screenshot(page, "workers");
      await page.close();
    });

    it("operates a queue from its pages: paging, re-enqueue with edited args, delete, retry selected, purge", async () => {
      const { page, errors } = await openPage(browser!);
      for (let n = 0; n < 50; n++) await s.hold.send({ page: "filler", n });
      await page.goto(`${dash.url}queues/${s.brokerId}/${s.parked}`);
      const rows = page.locator("[data-testid=message-table] tbody tr[data-id]");
      const pager = page.locator("nav.pager");
      await untilTrue(
        async () => (await pager.innerText({ timeout: 1000 })).includes("page 1 of 2"),
        "two pages of parked messages",
      );
      expect(await rows.count()).toBe(50);
      await pager.locator("a", { hasText: "next" }).click();
      await untilTrue(
        async () => (await pager.innerText({ timeout: 1000 })).includes("page 2 of 2"),
        "the second page",
      );
      const total = Number((await pager.innerText()).split(" ")[0]);
      expect(await rows.count()).toBe(total - 50);
      expect(page.url()).toContain("page=2");

      // Re-enqueue a copy with edited args (the JSON is checked as it is typed).
      await rows.first().locator("td.mono a").click();
      await page.locator("details.requeue summary").click();
      const argsBox = page.locator("[data-testid=requeue-args]");
      await argsBox.fill("[1,");
      expect(await page.locator("[data-testid=requeue-submit]").isDisabled()).toBe(true);
      await argsBox.fill('{"not": "an array"}');
      await expect(page.locator("details.requeue .error").innerText()).resolves.toContain("array");
      await argsBox.fill('["edited", 42]');
      await page.locator("[data-testid=requeue-submit]").click();
      await page.locator("details.requeue .ok a").click();
      await until(
        () => page.locator("[data-testid=message-args]").innerText({ timeout: 1000 }),
        JSON.stringify(["edited", 42], null, 2),
        "the re-enqueued copy with its edited args",
      );

      // Delete that copy.
      await page.locator("[data-testid=delete]").click();
      await page.locator("[data-testid=message-gone]").waitFor();

      // Retry one selected dead letter out of two.
      s.state.fail = false;
      const flakyBefore = s.state.flakyDone;
      await page.goto(`${dash.url}queues/${s.brokerId}/${s.work}?tab=dead`);
      await until(() => rows.count(), 2, "two dead letters");
      await rows.filter({ hasText: "flaky" }).locator("input[type=checkbox]").check();
      await page.locator("[data-testid=retry-selected]").click();
      await untilTrue(() => s.state.flakyDone === flakyBefore + 1, "the selected one processed");
      await until(() => rows.count(), 1, "one dead letter left listed");
      await expect(rows.first().innerText()).resolves.toContain("stubborn");

      // Purge, once the queue's name is typed.
      await page.goto(`${dash.url}queues/${s.brokerId}/${s.parked}`);
      await page.locator("button", { hasText: "Purge queue" }).click();
      const purge = page.locator("form.confirm button", { hasText: "Purge" });
      await page.locator("form.confirm input").fill("not-the-name");
      expect(await purge.isDisabled()).toBe(true);
      await page.locator("form.confirm input").fill(s.parked);
      await purge.click();
      await untilTrue(
        async () => /Purged \d+/.test(await page.locator("form.confirm").innerText()),
        "the purge done",
      );
      await until(() => rows.count(), 0, "the ready tab empty");
      await page.locator("header nav a", { hasText: "Overview" }).click();
      await until(cellText(page, s, s.parked, "ready"), "0", "the purged queue on the overview");
      expect(errors).toEqual([]);
      await page.close();
    });

    if (kind === "redis")
      it("works mounted under a prefix (/dq): links, API calls and events stay under it", async () => {
        const mounted = await s.dashboard({ basePath: "/dq" });
        expect(mounted.url).toMatch(/\/dq\/$/);
        const { page, errors } = await openPage(browser!);
        const requests: string[] = [];
        page.on("request", (request) => requests.push(new URL(request.url()).pathname));
        await page.goto(mounted.url);
        await until(cellText(page, s, s.work, "dead"), "1", "the overview under /dq");
        await page.locator(`[data-testid=queue-table] a`, { hasText: s.work }).click();
        await page.locator("[data-testid=message-table]").waitFor();
        expect(new URL(page.url()).pathname).toBe(`/dq/queues/${s.brokerId}/${s.work}`);
        await page.locator("header nav a", { hasText: "Workers" }).click();
        await page.locator("[data-testid=workers-table]").waitFor();
        expect(requests.length).toBeGreaterThan(3);
        expect(requests.filter((path) => !path.startsWith("/dq/"))).toEqual([]);
        expect(errors).toEqual([]);
        await page.close();
      });

    if (kind === "redis")
      it("shows a message Python Dramatiq wrote, its args decoded", async () => {
        const recording = loadWireFixture<{
          keys: Record<string, RecordedRedisKey>;
          message_ids: Record<string, string>;
        }>("redis-enqueued.json");
        const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
        try {
          await restoreRedisRecording(redis, recording.keys, s.namespace!);
        } finally {
          redis.disconnect();
        }
        const { page } = await openPage(browser!);
        await page.goto(`${dash.url}queues/${s.brokerId}/fx`);
        const rows = page.locator("[data-testid=message-table] tbody tr[data-id]");
        await until(() => rows.count(), 6, "the six recorded ready messages");
        const first = rows.first();
        await expect(first.innerText()).resolves.toContain("add");
        await first.locator("td.mono a").click();
        await until(
          () => page.locator("[data-testid=message-args]").innerText({ timeout: 1000 }),
          JSON.stringify([1, 2], null, 2),
          "the Python message's args decoded",
        );
        await expect(page.locator("[data-testid=raw-json]").textContent()).resolves.toContain(
          '"actor_name":"add"',
        );
        await page.goBack();
        await until(() => rows.count(), 6, "back on the queue page");
        await rows.nth(1).locator("td.mono a").click();
        await until(
          () => page.locator("[data-testid=message-kwargs]").innerText({ timeout: 1000 }),
          JSON.stringify({ y: 5 }, null, 2),
          "the Python message's kwargs decoded",
        );
        await page.goBack();
        await until(() => rows.count(), 6, "back on the queue page");
        await rows.nth(2).locator("td.mono a").click();
        await until(
          () => page.locator("[data-testid=message-pipeline]").innerText({ timeout: 1000 }),
          "2 more steps after this one: add → add",
          "the Python pipeline step's next steps",
        );
        await page.goBack();
        await until(() => rows.count(), 6, "back on the queue page");
        await rows.nth(3).locator("td.mono a").click();
        await untilTrue(
          async () =>
            (
              await page.locator("[data-testid=message-group]").innerText({ timeout: 1000 })
            ).includes("c8fe8a4d-7e0a-45a9-b311-15386d3d50cf"),
          "the Python group member's group",
        );
        await page.close();
      });

    if (kind === "rabbitmq")
      it("shows a message Python Dramatiq published, its args decoded", async () => {
        const recording = loadWireFixture<{ bodies: Record<string, string> }>("rabbitmq.json");
        const body = recording.bodies["dqfx_rmq"]!;
        // Python's bytes as they were published, into a queue the dq broker declared.
        const connection = await connect(AMQP_URL);
        try {
          const channel = await connection.createConfirmChannel();
          channel.sendToQueue(s.parked, Buffer.from(body), { deliveryMode: 2 });
          await channel.waitForConfirms();
          await channel.close();
        } finally {
          await connection.close();
        }
        const { page } = await openPage(browser!);
        await page.goto(`${dash.url}queues/${s.brokerId}/${s.parked}`);
        const rows = page.locator("[data-testid=message-table] tbody tr[data-id]");
        await until(() => rows.count(), 1, "the recorded message listed");
        await expect(rows.first().innerText()).resolves.toContain("rmq_add");
        await rows.first().locator("td.mono a").click();
        await until(
          () => page.locator("[data-testid=message-args]").innerText({ timeout: 1000 }),
          JSON.stringify([1, 2], null, 2),
          "the Python message's args decoded",
        );
        await expect(page.locator("[data-testid=raw-json]").textContent()).resolves.toBe(body);
        await page.close();
      });
  });
}

suite("redis", REDIS_URL, 6379);
suite("rabbitmq", AMQP_URL, 5672);
