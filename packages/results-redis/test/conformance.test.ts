import { Redis } from "ioredis";
import { addressFromUrl, defineResultBackendTests, describeWithServer } from "@dq/test-suite";
import { RedisResultBackend } from "../src/index.js";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describeWithServer("Redis", addressFromUrl(url, 6379), () => {
  defineResultBackendTests("RedisResultBackend", (options) => new RedisResultBackend({ url, ...options }), {
    async deleteKeys(_backend, keys) {
      const redis = new Redis(url);
      try {
        await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    },
  });
});
