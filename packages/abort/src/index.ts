/**
 * @dq/abort — cancel pending messages and abort running ones from anywhere, with the Redis keys of
 * Python's dramatiq-abort.
 */
export { Abortable } from "./abortable.js";
export { abort, abortGroup } from "./abort.js";
export { AbortClient } from "./abort-client.js";
export { Abort, AbortNotConfigured } from "./abort-error.js";
export { AbortBackend } from "./abort-backend.js";
export { RedisAbortBackend, DEFAULT_ABORT_PREFIX, pythonDumps } from "./redis-abort-backend.js";
export { StubAbortBackend } from "./stub-abort-backend.js";

export type { AbortableOptions } from "./abortable.js";
export type { AbortWhere } from "./abort.js";
export type { AbortClientOptions, AbortOptions, AbortResult, AbortTarget } from "./abort-client.js";
export type { AbortMode } from "./abort-error.js";
export type { AbortEvent } from "./abort-backend.js";
export type { RedisAbortBackendOptions } from "./redis-abort-backend.js";
