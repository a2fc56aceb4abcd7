export { OpenTelemetry } from "./open-telemetry.js";
export { ATTR, SYSTEM, TRACE_CONTEXT_OPTION } from "./attributes.js";
export { DURATION_BUCKETS, SCOPE } from "./instruments.js";
export type { Instruments } from "./instruments.js";
export type { OpenTelemetryOptions, SpanNaming } from "./options.js";
