/**
 * Imported first by the worker threads of isolated actors (`isolate: "thread"`) when the dq command
 * loads TypeScript modules: Node 20 does not apply tsx's loader hooks to worker threads, so the
 * threads import actor modules with tsx's `tsImport` instead (core reads this importer).
 */
import { tsImport } from "tsx/esm/api";

(globalThis as unknown as Record<symbol, (url: string) => Promise<unknown>>)[
  Symbol.for("dq.isolation.importer")
] = (url) => tsImport(url, url) as Promise<unknown>;
