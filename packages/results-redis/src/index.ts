/**
 * @dq/results-redis — a Redis result backend for dq, wire-compatible with Python Dramatiq's
 * `RedisBackend` (same MD5 keys, one-element lists and failure envelopes).
 */
export { RedisResultBackend } from "./redis-result-backend.js";

export type { RedisResultBackendOptions } from "./redis-result-backend.js";
