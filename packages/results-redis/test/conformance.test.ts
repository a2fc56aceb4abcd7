import { Redis } from "ioredis";
import { defineResultBackendTests } from "@dq/test-suite";
import { addressFromUrl, describeWithServer } from "@dq/core/testing";
import { RedisResultBackend } from "../src/index.js";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describeWithServer("Redis", addressFromUrl(url, 6379), () => {
  defineResultBackendTests(
    "RedisResultBackend",
    (options) => new RedisResultBackend({ url, ...options }),
    {
      async deleteKeys(_backend, keys) {
        const redis = new Redis(url);
        try {
          await redis.del(...keys);
        } finally {
          redis.disconnect();
        }
      },
    },
  );
});
