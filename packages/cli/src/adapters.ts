import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { importBrokerAdapter } from "@dq/core/adapter";
import type { ModuleSpec } from "./ipc.js";

/** The directories of the user's modules, where their packages are installed. */
function moduleDirs(modules: readonly ModuleSpec[]): string[] {
  return modules.map((spec) => path.dirname(fileURLToPath(spec.url)));
}

/**
 * When `DQ_BROKER_URL` is set, imports the adapter package for its scheme (core's
 * `importBrokerAdapter`, the same mapping `getBrokerAsync()` uses), looked up from the user's
 * modules first, then the working directory.
 * @throws InvalidOptionError for an invalid URL, an unknown scheme (listing the known ones) or an
 * adapter package that is not installed (naming it)
 */
export async function loadBrokerAdapter(modules: readonly ModuleSpec[]): Promise<void> {
  const url = process.env.DQ_BROKER_URL;
  if (url)
    await importBrokerAdapter(url, [
      ...moduleDirs(modules),
      process.cwd(),
      path.dirname(fileURLToPath(import.meta.url)),
    ]);
}

/**
 * The `file:` URL of an optional package, looked up from the user's modules, then the working
 * directory, then this package; undefined when it is not installed.
 */
export function resolveInstalled(name: string, modules: readonly ModuleSpec[]): string | undefined {
  const bases = [
    ...moduleDirs(modules),
    process.cwd(),
    path.dirname(fileURLToPath(import.meta.url)),
  ];
  for (const base of bases) {
    try {
      return pathToFileURL(createRequire(path.join(base, "noop.js")).resolve(name)).href;
    } catch {
      continue;
    }
  }
  return undefined;
}
