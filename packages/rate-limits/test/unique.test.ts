import { afterEach, describe, expect, it } from "@jest/globals";
import {
  addressFromUrl,
  describeWithServer as describeWithAddress,
  waitFor,
} from "@dq/core/testing";
import { duplicateOf, isDuplicate } from "../src/index.js";
import { describeWithServer } from "./helpers.js";
import {
  AMQP_URL,
  cleanUp,
  harness,
  type BackendKind,
  type BrokerKind,
  type HarnessOptions,
} from "./unique-harness.js";
import { uniqueKey } from "./helpers.js";

afterEach(cleanUp);

const settle = (ms = 400) => new Promise((resolve) => setTimeout(resolve, ms));

/** The unique-message scenarios of issue 22, on one broker and one backend. */
function scenarios(brokerKind: BrokerKind, backendKind: BackendKind) {
  const on = (extra: Partial<HarnessOptions> = {}) => ({
    broker: brokerKind,
    backend: backendKind,
    ...extra,
  });

  it("drop: 100 concurrent sends of one job enqueue one message and run it once", async () => {
    const h = harness(on(), { unique: { ttl: 30_000, until: "finished", mode: "drop" } });
    const sent = await Promise.all(Array.from({ length: 100 }, () => h.job.send("report")));
    const enqueued = sent.filter((message) => !isDuplicate(message));
    expect(enqueued).toHaveLength(1);
    const lock = h.lockOf(enqueued[0]!);
    for (const message of sent.filter((m) => isDuplicate(m)))
      expect(duplicateOf(message)).toEqual({ lockKey: lock, owner: enqueued[0]!.messageId });
    await h.start();
    await waitFor(() => h.runs.length === 1, "the one run");
    await h.broker.join(h.queueName, { timeout: 20_000 });
    await waitFor(async () => (await h.backend.getValue(lock)) === undefined, "the lock release");
    await settle();
    expect(h.runs).toEqual(["report"]);
    expect(h.skips.skipped).toBe(0);
  });

  it("debounce: 10 sends 50 ms apart run once, with the last arguments", async () => {
    const key = uniqueKey("debounce");
    const h = harness(on(), { unique: { key, ttl: 30_000, until: "started", mode: "debounce" } });
    await h.start();
    for (let i = 0; i < 10; i++) {
      const sent = await h.job.sendWithOptions({ args: [`save ${i}`], delay: 1500 });
      expect(isDuplicate(sent)).toBe(false);
      await settle(50);
    }
    await waitFor(() => h.runs.length === 1 && h.skips.skipped === 9, "one run, 9 skips", 30_000);
    await h.broker.join(h.queueName, { timeout: 20_000 });
    await settle();
    expect(h.runs).toEqual(["save 9"]);
    expect(h.skips.skipped).toBe(9);
  });

  it('until "finished": no second copy while one runs; the lock goes when it finishes', async () => {
    const h = harness(on(), { unique: { ttl: 30_000, until: "finished", mode: "drop" } });
    const open = h.closeGate();
    await h.start();
    const first = await h.job.send("x");
    await waitFor(() => h.started.length === 1, "the first run to start");
    expect(isDuplicate(await h.job.send("x"))).toBe(true);
    open();
    await waitFor(() => h.runs.length === 1, "the first run to finish");
    const lock = h.lockOf(first);
    await waitFor(async () => (await h.backend.getValue(lock)) === undefined, "the lock release");
    expect(isDuplicate(await h.job.send("x"))).toBe(false);
    await waitFor(() => h.runs.length === 2, "the second run");
  });

  it('until "started": one copy may wait while another runs, but only one', async () => {
    const h = harness(on({ concurrency: 1 }), {
      unique: { ttl: 30_000, until: "started", mode: "drop" },
    });
    const open = h.closeGate();
    await h.start();
    await h.job.send("x");
    await waitFor(() => h.started.length === 1, "the first run to start");
    const pending = await h.job.send("x");
    expect(isDuplicate(pending)).toBe(false);
    expect(isDuplicate(await h.job.send("x"))).toBe(true);
    open();
    await waitFor(() => h.runs.length === 2, "both runs");
    await h.broker.join(h.queueName, { timeout: 20_000 });
    await settle();
    expect(h.runs).toEqual(["x", "x"]);
  });

  it("keeps the lock across retries and releases it once the message is dead-lettered", async () => {
    const key = uniqueKey("retried");
    const h = harness(on(), {
      unique: { key, ttl: 30_000, until: "finished", mode: "drop" },
      maxRetries: 2,
      minBackoff: 300,
      maxBackoff: 600,
    });
    await h.start();
    const failing = await h.job.send("fail");
    const lock = h.lockOf(failing);
    await waitFor(() => h.started.length === 1, "the first attempt");
    // Between attempts (and during them) the failing message still owns the lock.
    expect(isDuplicate(await h.job.send("ok"))).toBe(true);
    await waitFor(() => h.started.length === 2, "the first retry");
    expect(await h.backend.getValue(lock)).toBe(failing.messageId);
    expect(isDuplicate(await h.job.send("ok"))).toBe(true);
    await waitFor(() => h.started.length === 3, "the last retry");
    await waitFor(async () => (await h.backend.getValue(lock)) === undefined, "the release");
    expect(h.started).toEqual(["fail", "fail", "fail"]);
    expect(isDuplicate(await h.job.send("ok"))).toBe(false);
    await waitFor(() => h.runs.length === 1, "the run after the dead letter");
    expect(h.runs).toEqual(["ok"]);
  });

  it("replace: the newer message takes the lock and the older one is skipped", async () => {
    const key = uniqueKey("replace");
    const h = harness(on(), { unique: { key, ttl: 30_000, until: "finished", mode: "replace" } });
    const older = await h.job.send("old");
    const newer = await h.job.send("new");
    expect([isDuplicate(older), isDuplicate(newer)]).toEqual([false, false]);
    expect(await h.backend.getValue(h.lockOf(older))).toBe(newer.messageId);
    await h.start();
    await waitFor(() => h.runs.length === 1 && h.skips.skipped === 1, "one run, one skip");
    expect(h.runs).toEqual(["new"]);
  });

  it("CompletedGuard skips a delivery of a message id that already completed", async () => {
    const h = harness(on({ guard: true }));
    await h.start();
    const message = h.job.message("once");
    await h.broker.enqueue(message);
    await waitFor(() => h.runs.length === 1, "the first delivery");
    // The same message (same id) delivered again, as a duplicated delayed message would be.
    await h.broker.enqueue(message);
    await waitFor(() => h.skips.skipped === 1, "the duplicate to be skipped");
    await h.broker.join(h.queueName, { timeout: 20_000 });
    expect(h.runs).toEqual(["once"]);
  });

  it("without CompletedGuard, that duplicated delivery runs again (the control)", async () => {
    const h = harness(on());
    await h.start();
    const message = h.job.message("twice");
    await h.broker.enqueue(message);
    await waitFor(() => h.runs.length === 1, "the first delivery");
    await h.broker.enqueue(message);
    await waitFor(() => h.runs.length === 2, "the second delivery");
  });
}

describe("Unique on the StubBroker with the stub backend", () => scenarios("stub", "stub"));

// The Redis backend with the StubBroker is covered by RedisBroker + Redis below.
describeWithServer("Memcached", "Unique on the StubBroker with the Memcached backend", () =>
  scenarios("stub", "memcached"),
);

describeWithServer("Redis", "Unique on RedisBroker with the Redis backend", () =>
  scenarios("redis", "redis"),
);

describeWithAddress(
  "Unique on RabbitmqBroker with the Memcached backend",
  addressFromUrl(AMQP_URL, 5672),
  () => describeWithServer("Memcached", "(Memcached)", () => scenarios("rabbitmq", "memcached")),
);

describeWithAddress(
  "Unique on RabbitmqBroker with the Redis backend",
  addressFromUrl(AMQP_URL, 5672),
  () => describeWithServer("Redis", "(Redis)", () => scenarios("rabbitmq", "redis")),
);

/** Two producers (each its own broker and backend client), as two processes would be. */
function acrossClients(backendKind: BackendKind) {
  it("drop: 100 concurrent sends from two producers with their own clients enqueue one", async () => {
    const unique = { key: uniqueKey("two-producers"), ttl: 30_000, until: "finished" } as const;
    const producers = [0, 1].map(() =>
      harness({ broker: "stub", backend: backendKind }, { unique: { ...unique, mode: "drop" } }),
    );
    const sent = await Promise.all(
      Array.from({ length: 100 }, (_, i) => producers[i % 2]!.job.send(`from ${i % 2}`)),
    );
    expect(sent.filter((message) => !isDuplicate(message))).toHaveLength(1);
  });
}

describeWithServer("Redis", "Unique across two Redis clients", () => acrossClients("redis"));
describeWithServer("Memcached", "Unique across two Memcached clients", () =>
  acrossClients("memcached"),
);
