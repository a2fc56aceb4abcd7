import { expect, it } from "@jest/globals";
import {
  ResultFailure,
  ResultMissing,
  ResultTimeout,
  type Message,
  type ResultBackend,
} from "@dq/core";
import { LONG_TIMEOUT, QuotaExceeded, rejection, TTL } from "./result-test-helpers.js";

/** What `defineResultBackendTests` hands the read cases. */
export interface ResultReadCaseContext {
  /** A fresh backend and a maker of messages whose results are deleted after the test. */
  setup(): Promise<{
    backend: ResultBackend;
    message: <R = unknown>(actorName?: string, queueName?: string) => Message<R>;
  }>;
}

/**
 * The read cases of the result backend contract: a missing result, a blocking read woken by a
 * store, timeouts (also sub-second and zero) and stored failures, read at once or woken up.
 */
export function defineResultReadCases(context: ResultReadCaseContext): void {
  it("throws ResultMissing, naming the message, when not blocking and nothing is stored", async () => {
    const { backend, message } = await context.setup();
    const missing = message();
    const error = await rejection(backend.getResult(missing));
    expect(ResultMissing.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(missing.messageId);
    const other = message();
    await backend.storeResult(other, 1, TTL);
    expect(ResultMissing.isInstance(await rejection(backend.getResult(missing)))).toBe(true);
  });

  it("returns a blocking read as soon as the result is stored", async () => {
    const { backend, message } = await context.setup();
    const stored = message();
    const started = Date.now();
    let storeError: unknown;
    const timer = setTimeout(
      () => backend.storeResult(stored, 42, TTL).catch((error: unknown) => (storeError = error)),
      200,
    );
    try {
      expect(await backend.getResult(stored, { block: true, timeout: LONG_TIMEOUT })).toBe(42);
    } finally {
      clearTimeout(timer);
    }
    expect(storeError).toBeUndefined();
    // Far below the 10 s timeout: the read woke up on the store, not at its deadline.
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("throws ResultTimeout when a blocking read runs past its timeout", async () => {
    const { backend, message } = await context.setup();
    const stored = message();
    const started = Date.now();
    const error = await rejection(backend.getResult(stored, { block: true, timeout: 1000 }));
    const elapsed = Date.now() - started;
    expect(ResultTimeout.isInstance(error)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(LONG_TIMEOUT);
  });

  it("honours sub-second and zero timeouts", async () => {
    const { backend, message } = await context.setup();
    const started = Date.now();
    expect(
      ResultTimeout.isInstance(
        await rejection(backend.getResult(message(), { block: true, timeout: 300 })),
      ),
    ).toBe(true);
    expect(
      ResultTimeout.isInstance(
        await rejection(backend.getResult(message(), { block: true, timeout: 0 })),
      ),
    ).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    const stored = message();
    await backend.storeResult(stored, "there", TTL);
    expect(await backend.getResult(stored, { block: true, timeout: 0 })).toBe("there");
  });

  it("surfaces a stored failure as ResultFailure with the error's type and message", async () => {
    const { backend, message } = await context.setup();
    const failed = message("explode");
    await backend.storeException(failed, new TypeError("bad input"), TTL);
    for (const options of [{}, { block: true, timeout: LONG_TIMEOUT }]) {
      const error = await rejection(backend.getResult(failed, options));
      expect(ResultFailure.isInstance(error)).toBe(true);
      expect(error).toMatchObject({
        origExcType: "TypeError",
        origExcMsg: "bad input",
        message: "actor raised TypeError: bad input",
      });
    }
    const custom = message("explode");
    await backend.storeException(custom, new QuotaExceeded("over quota"), TTL);
    expect(await rejection(backend.getResult(custom))).toMatchObject({
      origExcType: "QuotaExceeded",
      origExcMsg: "over quota",
    });
  });

  it("wakes a blocked reader with ResultFailure when a failure is stored", async () => {
    const { backend, message } = await context.setup();
    const failed = message("explode");
    const timer = setTimeout(
      () => backend.storeException(failed, new RangeError("too big"), TTL).catch(() => undefined),
      200,
    );
    try {
      const error = await rejection(
        backend.getResult(failed, { block: true, timeout: LONG_TIMEOUT }),
      );
      expect(ResultFailure.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ origExcType: "RangeError", origExcMsg: "too big" });
    } finally {
      clearTimeout(timer);
    }
  });
}
