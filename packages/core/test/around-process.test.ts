import { AsyncLocalStorage } from "node:async_hooks";
import { afterEach, describe, expect, it } from "@jest/globals";
import {
  actor,
  CurrentMessage,
  defaultMiddleware,
  Middleware,
  type Broker,
  type MessageProxy,
} from "../src/index.js";
import { harness, waitFor } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const store = new AsyncLocalStorage<string>();

/** Makes `label` current around processing and records what it saw. */
class Wrapper extends Middleware {
  constructor(
    private readonly label: string,
    private readonly events: string[],
  ) {
    super();
  }
  override async aroundProcessMessage(
    _broker: Broker,
    message: MessageProxy,
    next: () => Promise<void>,
  ): Promise<void> {
    this.events.push(`enter ${this.label} ${message.actorName}`);
    await store.run(`${store.getStore() ?? ""}/${this.label}`, next);
    this.events.push(`leave ${this.label}`);
  }
  override beforeProcessMessage(): void {
    this.events.push(`before ${this.label} sees ${store.getStore()}`);
  }
  override afterProcessMessage(): void {
    this.events.push(`after ${this.label} sees ${store.getStore()}`);
  }
}

/** Throws without calling next. */
class Broken extends Middleware {
  override aroundProcessMessage(): Promise<void> {
    throw new Error("broken wrapper");
  }
}

/** Rejects without calling next. */
class Rejecting extends Middleware {
  override async aroundProcessMessage(): Promise<void> {
    await Promise.resolve();
    throw new Error("rejecting wrapper");
  }
}

describe("aroundProcessMessage", () => {
  it("nests wrappers in middleware order around the hooks and across the actor's awaits", async () => {
    const events: string[] = [];
    const h = await harness({
      middleware: [
        ...defaultMiddleware(),
        new CurrentMessage(),
        new Wrapper("a", events),
        new Wrapper("b", events),
      ],
    });
    cleanups.push(() => h.stop());
    const seen: (string | undefined)[] = [];
    const slow = actor(
      async function slow() {
        seen.push(store.getStore());
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen.push(store.getStore(), CurrentMessage.getCurrentMessage()?.actorName);
      },
      { broker: h.broker },
    );
    await slow.send();
    await waitFor(() => events.includes("leave a"), "the outer wrapper to finish");
    expect(seen).toEqual(["/a/b", "/a/b", "slow"]);
    expect(events).toEqual([
      "enter a slow",
      "enter b slow",
      "before a sees /a/b",
      "before b sees /a/b",
      "after b sees /a/b",
      "after a sees /a/b",
      "leave b",
      "leave a",
    ]);
  });

  it("logs a wrapper that throws without calling next, and runs the message anyway", async () => {
    const h = await harness({ middleware: [...defaultMiddleware(), new Broken()] });
    cleanups.push(() => h.stop());
    let ran = 0;
    const plain = actor(
      function plain() {
        ran++;
      },
      { broker: h.broker },
    );
    await plain.send();
    await h.broker.join(plain.queueName);
    await h.worker.join();
    expect(ran).toBe(1);
    expect(h.logger.lines.some((line) => line.includes("Broken.aroundProcessMessage"))).toBe(true);
  });

  it("runs the message once when a wrapper rejects without calling next", async () => {
    const h = await harness({ middleware: [...defaultMiddleware(), new Rejecting()] });
    cleanups.push(() => h.stop());
    let ran = 0;
    const plain = actor(
      function plain() {
        ran++;
      },
      { broker: h.broker },
    );
    await plain.send();
    await h.broker.join(plain.queueName);
    await h.worker.join();
    expect(ran).toBe(1);
    expect(h.logger.lines.some((line) => line.includes("Rejecting.aroundProcessMessage"))).toBe(
      true,
    );
  });
});
