/**
 * Helpers shared by the result backend cases: TTLs and timeouts, an error class of the user's own,
 * and ways to await a rejection (core's) or a pause.
 */

/** The TTL of a stored result, far longer than any test. */
export const TTL = 60_000;
/** A blocking read's timeout that a passing test never reaches. */
export const LONG_TIMEOUT = 10_000;

/** An error class of the user's own, to check that a failure keeps its type's name. */
export class QuotaExceeded extends Error {}

export { rejection } from "@dq/core/testing";

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
