import { afterEach, describe, expect, it } from "@jest/globals";
import { actor, defaultMiddleware, Message, Retries, StubBroker, Worker } from "@dq/core";
import { recordingLogger, uniqueQueueName, waitFor } from "@dq/core/testing";
import type { Histogram } from "@opentelemetry/sdk-metrics";
import { OpenTelemetry } from "../src/index.js";
import { memoryMetrics } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("OpenTelemetry metrics", () => {
  it("counts messages, errors, retries, rejects, in-progress, duration and wait time", async () => {
    const { provider, points } = memoryMetrics();
    const middleware = [
      ...defaultMiddleware().filter((m) => !(m instanceof Retries)),
      new Retries({ minBackoff: 5, maxBackoff: 10 }),
      new OpenTelemetry({ meterProvider: provider }),
    ];
    const broker = new StubBroker({ middleware, logger: recordingLogger() });
    const worker = new Worker(broker, { workerTimeout: 20 });
    await worker.start();
    cleanups.push(async () => {
      await worker.stop({ timeout: 2000 });
      await broker.close();
    });
    const queueName = uniqueQueueName("otelm");
    const ok = actor(() => "fine", { actorName: "ok", queueName, broker });
    const bad = actor(
      () => {
        throw new Error("no");
      },
      { actorName: "bad", queueName, broker, maxRetries: 1 },
    );
    await ok.send();
    await ok.send();
    await bad.send();
    await waitFor(async () => {
      const rejects = await points("dramatiq.message.rejects");
      return rejects.length === 1;
    }, "the dead letter");
    await broker.join(queueName, { failFast: false });
    await worker.join();

    const byActor = async (name: string) =>
      Object.fromEntries(
        (await points(name)).map((p) => [String(p.attributes["dramatiq.actor_name"]), p.value]),
      );
    expect(await byActor("dramatiq.messages")).toEqual({ ok: 2, bad: 2 });
    expect(await byActor("dramatiq.message.errors")).toEqual({ bad: 2 });
    expect(await byActor("dramatiq.message.retries")).toEqual({ bad: 1 });
    expect(await byActor("dramatiq.message.rejects")).toEqual({ bad: 1 });
    expect(await byActor("dramatiq.messages.inprogress")).toEqual({ ok: 0, bad: 0 });
    const durations = await byActor("dramatiq.message.duration");
    expect((durations.ok as Histogram).count).toBe(2);
    expect((durations.bad as Histogram).count).toBe(2);
    const waits = await byActor("dramatiq.message.wait_time");
    expect((waits.ok as Histogram).count).toBe(2);
    const [point] = await points("dramatiq.messages");
    expect(point!.attributes).toEqual({
      "messaging.system": "dramatiq",
      "messaging.destination.name": queueName,
      "dramatiq.actor_name": point!.attributes["dramatiq.actor_name"],
    });
  });

  it("measures the wait from the message's timestamp to the start of its processing", async () => {
    const { provider, points } = memoryMetrics();
    const broker = new StubBroker({
      middleware: [...defaultMiddleware(), new OpenTelemetry({ meterProvider: provider })],
      logger: recordingLogger(),
    });
    const worker = new Worker(broker, { workerTimeout: 20 });
    await worker.start();
    cleanups.push(async () => {
      await worker.stop({ timeout: 2000 });
      await broker.close();
    });
    const queueName = uniqueQueueName("otelw");
    actor(() => undefined, { actorName: "job", queueName, broker });
    // Sent 5 s ago (by another producer, say).
    const fields = { queueName, actorName: "job", args: [], kwargs: {}, options: {} };
    await broker.enqueue(new Message({ ...fields, messageTimestamp: Date.now() - 5000 }));
    await waitFor(async () => (await points("dramatiq.messages")).length === 1, "the message");
    const [wait] = await points("dramatiq.message.wait_time");
    const waited = (wait!.value as Histogram).sum;
    expect(waited).toBeGreaterThanOrEqual(5000);
    expect(waited).toBeLessThan(65_000);
  });
});
