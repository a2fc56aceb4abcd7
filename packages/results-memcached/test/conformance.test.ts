import { defineResultBackendTests } from "@dq/test-suite";
import { addressFromServers, describeWithServer } from "@dq/core/testing";
import { MemcachedResultBackend } from "../src/index.js";

const servers = process.env.MEMCACHED_SERVERS ?? "127.0.0.1:11211";

describeWithServer("Memcached", addressFromServers(servers, 11211), () => {
  defineResultBackendTests(
    "MemcachedResultBackend",
    (options) => new MemcachedResultBackend({ servers, ...options }),
    {
      async deleteKeys(backend, keys) {
        const { client } = backend as MemcachedResultBackend;
        for (const key of keys) await client.delete(key);
      },
    },
  );
});
