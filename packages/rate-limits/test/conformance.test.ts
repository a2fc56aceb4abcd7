import { defineRateLimiterBackendTests } from "@dq/test-suite";
import { StubRateLimiterBackend } from "../src/index.js";
import { MemcachedRateLimiterBackend } from "../src/memcached.js";
import { RedisRateLimiterBackend } from "../src/redis.js";
import { describeWithServer, MEMCACHED_SERVERS, REDIS_URL } from "./helpers.js";

// One shared store, several clients: the stub stands in for a server that many clients talk to.
const stub = new StubRateLimiterBackend();
defineRateLimiterBackendTests("StubRateLimiterBackend", () => ({
  add: (...args) => stub.add(...args),
  incr: (...args) => stub.incr(...args),
  decr: (...args) => stub.decr(...args),
  incrAndSum: (...args) => stub.incrAndSum(...args),
  wait: (...args) => stub.wait(...args),
  waitNotify: (...args) => stub.waitNotify(...args),
  getValue: (...args) => stub.getValue(...args),
  setValue: (...args) => stub.setValue(...args),
  addValue: (...args) => stub.addValue(...args),
  compareAndSet: (...args) => stub.compareAndSet(...args),
  compareAndDelete: (...args) => stub.compareAndDelete(...args),
  close: async () => undefined,
}));

describeWithServer("Redis", "Redis", () => {
  defineRateLimiterBackendTests(
    "RedisRateLimiterBackend",
    () => new RedisRateLimiterBackend({ url: REDIS_URL }),
  );
});

describeWithServer("Memcached", "Memcached", () => {
  defineRateLimiterBackendTests(
    "MemcachedRateLimiterBackend",
    () => new MemcachedRateLimiterBackend({ servers: MEMCACHED_SERVERS }),
    { blocking: false },
  );
});
