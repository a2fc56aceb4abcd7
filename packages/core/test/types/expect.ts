/**
 * Type assertions for the `*.types.ts` files, which `pnpm typecheck` (tsc) checks and jest does
 * not run. `// @ts-expect-error` lines must really error: tsc fails on an unused one.
 */

/** `true` when A and B are the same type (not merely assignable either way). */
export type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when `T` is `true`: `assertType<Equal<typeof x, number>>(true)`. */
export function assertType<T extends true>(_ok: T): void {}

/** The result type a message, a pipeline or a group reads back. */
export type ResultOf<T> = T extends { getResult(): Promise<infer R> }
  ? R
  : T extends { getResults(): Promise<infer R> }
    ? R
    : never;
