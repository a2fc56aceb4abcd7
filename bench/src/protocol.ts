import type { SystemId } from "./args.js";
import type { Scope } from "./systems/system.js";

/** What the harness tells a worker child (as JSON in argv[2]). */
export interface ChildConfig {
  system: SystemId;
  scope: Scope;
  concurrency: number;
  /** "drain": report first/last completion after `expect` jobs; "signal": PUBLISH each completion. */
  mode: "drain" | "signal";
  expect: number;
  /** The Redis channel for "signal" mode. */
  channel: string;
}

/** Child → parent messages over the IPC channel. */
export type ChildMessage =
  | { type: "ready" }
  | { type: "drained"; count: number; firstMs: number; lastMs: number }
  | { type: "stopped"; peakRss: number }
  | { type: "error"; message: string };

/** Parent → child messages. */
export type ParentMessage = { type: "stop" };

/** The Redis channel a "signal" child publishes completions on. */
export function signalChannel(prefix: string): string {
  return `${prefix}:bench-done`;
}
