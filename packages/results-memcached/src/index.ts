/**
 * @dq/results-memcached — a Memcached result backend for dq, wire-compatible with Python
 * Dramatiq's `MemcachedBackend` (same MD5 keys, values and failure envelopes).
 */
export { MemcachedResultBackend } from "./memcached-result-backend.js";

export type { MemcachedResultBackendOptions, MemjsOptions } from "./memcached-result-backend.js";
