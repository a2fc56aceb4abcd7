import { afterAll, beforeAll } from "@jest/globals";
import memjs from "memjs";
import type { Message } from "@dq/core";
import { MemcachedResultBackend } from "../src/index.js";
export { loadWireFixture as loadFixture } from "@dq/core/testing";

export interface MemcachedResultsFixture {
  entries: { key: string; message: unknown; raw: string }[];
}

/**
 * A backend and a plain memjs client on the test Memcached for one describe block, created in
 * beforeAll; `track(message)` remembers the message's key so afterAll deletes it.
 */
export function useMemcached(servers: string, namespace: string) {
  const keys: string[] = [];
  const state = {
    client: undefined as unknown as memjs.Client,
    backend: undefined as unknown as MemcachedResultBackend,
    track(message: Message): string {
      const key = state.backend.buildMessageKey(message);
      keys.push(key);
      return key;
    },
  };
  beforeAll(() => {
    state.client = memjs.Client.create(servers, { logger: { log: () => undefined } });
    state.backend = new MemcachedResultBackend({ servers, namespace });
  });
  afterAll(async () => {
    for (const key of keys) await state.client.delete(key);
    await state.backend.close();
    state.client.close();
  });
  return state;
}
