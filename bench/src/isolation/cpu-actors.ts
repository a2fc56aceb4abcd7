/**
 * The CPU-bound actors of the isolation bench, declared on the global broker when imported: by the
 * bench (main thread) and by each isolation thread (where `actor()` only registers). The same
 * computation runs in-process or in a worker thread.
 */
import { actor } from "@dq/core";

/** Synchronous work: `iterations` rounds of floating-point arithmetic (no allocation). */
export function burn(iterations: number): number {
  let x = 0;
  for (let i = 1; i <= iterations; i++) x += Math.sqrt(i) * Math.sin(i);
  return x;
}

export const cpuInProcess = actor(function benchCpuInProcess(iterations: number) {
  return burn(iterations);
});

export const cpuIsolated = actor(
  function benchCpuIsolated(iterations: number) {
    return burn(iterations);
  },
  { isolate: "thread" },
);
