// The middleware in one process: what each hook counts, the single-process server, the settings.
import path from "node:path";
import { afterEach, describe, expect, it } from "@jest/globals";
import {
  actor,
  AgeLimit,
  InvalidOptionError,
  Retries,
  StubBroker,
  Worker,
  type Middleware,
} from "@dq/core";
import { MetricsServerError, Prometheus, type MetricsServer } from "../src/index.js";
import { get, listen, parseExposition, total } from "./helpers/dq.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function running(middleware: Middleware[]) {
  const broker = new StubBroker({ middleware });
  const worker = new Worker(broker, { workerTimeout: 20 });
  await worker.start();
  cleanups.push(async () => {
    await worker.stop({ timeout: 2000 });
    await broker.close();
  });
  return broker;
}

async function sample(prometheus: Prometheus) {
  return parseExposition(await prometheus.registry.metrics());
}

describe("Prometheus middleware", () => {
  it("counts an actor that raised as an error (and its dead-lettering as a reject)", async () => {
    const prometheus = new Prometheus();
    const broker = await running([new Retries({ maxRetries: 0 }), prometheus]);
    const boom = actor(
      function boom() {
        throw new Error("boom");
      },
      { broker },
    );
    const fine = actor(function fine() {}, { broker });
    await boom.send();
    await fine.send();
    await fine.send();
    await broker.join("default", { failFast: false });
    const samples = await sample(prometheus);
    const boomLabels = { queue_name: "default", actor_name: "boom" };
    const fineLabels = { queue_name: "default", actor_name: "fine" };
    expect(total(samples, "dramatiq_messages_total", boomLabels)).toBe(1);
    expect(total(samples, "dramatiq_message_errors_total", boomLabels)).toBe(1);
    expect(total(samples, "dramatiq_message_rejects_total", boomLabels)).toBe(1);
    expect(total(samples, "dramatiq_messages_total", fineLabels)).toBe(2);
    expect(total(samples, "dramatiq_message_errors_total", fineLabels)).toBe(0);
    expect(total(samples, "dramatiq_message_duration_milliseconds_count")).toBe(3);
    expect(total(samples, "dramatiq_messages_inprogress")).toBe(0);
  });

  it("counts a retry once, and the delayed gauge goes back to 0 when the retry comes due", async () => {
    const prometheus = new Prometheus();
    const broker = await running([new Retries({ minBackoff: 10, maxBackoff: 20 }), prometheus]);
    let calls = 0;
    const flaky = actor(
      function flaky() {
        if (calls++ === 0) throw new Error("first time");
      },
      { broker },
    );
    await flaky.send();
    await broker.join("default", { failFast: false });
    const labels = { queue_name: "default", actor_name: "flaky" };
    const samples = await sample(prometheus);
    expect(calls).toBe(2);
    expect(total(samples, "dramatiq_messages_total", labels)).toBe(2);
    expect(total(samples, "dramatiq_message_errors_total", labels)).toBe(1);
    expect(total(samples, "dramatiq_message_retries_total", labels)).toBe(1);
    expect(total(samples, "dramatiq_delayed_messages_inprogress", labels)).toBe(0);
  });

  it("counts a skipped message like a processed one, not as an error", async () => {
    const prometheus = new Prometheus();
    const broker = await running([new AgeLimit(), prometheus]);
    const old = actor(function old() {}, { broker, maxAge: 1 });
    await old.send();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await broker.join("default", { failFast: false });
    const samples = await sample(prometheus);
    expect(total(samples, "dramatiq_messages_total", { actor_name: "old" })).toBe(1);
    expect(total(samples, "dramatiq_message_errors_total", { actor_name: "old" })).toBe(0);
  });
});

describe("Prometheus.startServer (one process, by hand)", () => {
  it("serves the process's metrics over HTTP", async () => {
    const prometheus = new Prometheus({ httpHost: "127.0.0.1", httpPort: 0 });
    prometheus.metrics.messages.inc({ queue_name: "q", actor_name: "a" }, 3);
    const server = await prometheus.startServer();
    cleanups.push(() => server.close());
    const response = await get(`http://127.0.0.1:${server.port}/metrics`);
    expect(response.status).toBe(200);
    expect(
      total(parseExposition(response.body), "dramatiq_messages_total", {
        queue_name: "q",
        actor_name: "a",
      }),
    ).toBe(3);
    expect((await get(`http://127.0.0.1:${server.port}/nope`)).status).toBe(404);
  });

  it("fails with an error naming the port when it is in use", async () => {
    const held = await listen(0);
    cleanups.push(() => new Promise((resolve) => held.close(resolve)));
    const port = (held.address() as { port: number }).port;
    const prometheus = new Prometheus({ httpHost: "127.0.0.1", httpPort: port });
    let server: MetricsServer | undefined;
    const error = await prometheus.startServer().then(
      (started) => {
        server = started;
        return undefined;
      },
      (failure: unknown) => failure,
    );
    if (server) cleanups.push(server.close);
    expect(error).toBeInstanceOf(MetricsServerError);
    expect((error as Error).message).toContain(`port ${port} is already in use`);
  });
});

describe("settings", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of [
      "dramatiq_prom_host",
      "dramatiq_prom_port",
      "dramatiq_prom_db",
      "DQ_PROM_HOST",
      "DQ_PROM_PORT",
      "DQ_PROM_DB",
      "DQ_SUPERVISOR_PID",
    ]) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  it("takes constructor options over Dramatiq's env vars over the defaults", () => {
    delete process.env.dramatiq_prom_host;
    delete process.env.dramatiq_prom_port;
    delete process.env.dramatiq_prom_db;
    process.env.DQ_SUPERVISOR_PID = "4242";
    expect(new Prometheus().settings).toEqual({
      httpHost: "127.0.0.1",
      httpPort: 9191,
      dbDirectory: expect.stringMatching(/dq-prometheus-4242$/),
    });
    process.env.dramatiq_prom_host = "0.0.0.0";
    process.env.dramatiq_prom_port = "9300";
    process.env.dramatiq_prom_db = "/tmp/some-run";
    expect(new Prometheus().settings).toEqual({
      httpHost: "0.0.0.0",
      httpPort: 9300,
      dbDirectory: path.resolve("/tmp/some-run"),
    });
    expect(
      new Prometheus({ httpHost: "::1", httpPort: 9400, dbDirectory: "/tmp/other" }).settings,
    ).toEqual({ httpHost: "::1", httpPort: 9400, dbDirectory: path.resolve("/tmp/other") });
  });

  it("rejects a port that is not one", () => {
    process.env.dramatiq_prom_port = "http";
    expect(() => new Prometheus()).toThrow(InvalidOptionError);
    expect(() => new Prometheus({ httpPort: 70000 })).toThrow(/httpPort=70000 is not a TCP port/);
  });

  it("reads DQ_PROM_* first, with dramatiq_prom_* as aliases, and names the variable of a bad port", () => {
    process.env.dramatiq_prom_host = "127.0.0.1";
    process.env.dramatiq_prom_port = "9300";
    process.env.DQ_PROM_PORT = "9310";
    process.env.DQ_PROM_DB = "/tmp/dq-run";
    expect(new Prometheus().settings).toEqual({
      httpHost: "127.0.0.1",
      httpPort: 9310,
      dbDirectory: path.resolve("/tmp/dq-run"),
    });
    process.env.DQ_PROM_PORT = "metrics";
    expect(() => new Prometheus()).toThrow('DQ_PROM_PORT="metrics" is not a TCP port');
  });

  it("names the exposition entry in forks, with the settings in its query", () => {
    const prometheus = new Prometheus({
      httpHost: "127.0.0.1",
      httpPort: 9500,
      dbDirectory: "/tmp/run",
    });
    const [fork] = prometheus.forks;
    expect(fork?.exportName).toBe("serveRunMetrics");
    const url = new URL(fork!.module);
    expect(url.protocol).toBe("file:");
    expect(url.pathname).toMatch(/\/prometheus\/dist\/exposition\.js$/);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      host: "127.0.0.1",
      port: "9500",
      db: path.resolve("/tmp/run"),
    });
  });
});
