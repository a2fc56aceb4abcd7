import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Broker, GenericActor, setBroker } from "@dq/core";
import { addThreadPreload } from "@dq/core/adapter";
import type { ModuleSpec } from "./ipc.js";

/** A module that cannot be found, imported, or that does not export what was asked (exit 2). */
export class ModuleLoadError extends Error {
  override name = "ModuleLoadError";
}

const EXTENSIONS = ["", ".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"];
const TYPESCRIPT = /\.(c|m)?tsx?$/;

function isFile(file: string): boolean {
  return existsSync(file) && statSync(file).isFile();
}

/** Splits `module:exportName` (a Windows drive letter or a URL is not an export name). */
function splitExport(given: string): { name: string; exportName?: string } {
  const match = /^(.+):([A-Za-z_$][\w$]*)$/.exec(given);
  if (!match || /^[A-Za-z]$/.test(match[1]!)) return { name: given };
  return { name: match[1]!, exportName: match[2]! };
}

/**
 * Resolves what the user named on the command line to a file, trying each base directory: as a
 * path (with or without extension, or a directory's index), then as a package.
 * @throws ModuleLoadError when nothing matches
 */
export function resolveModule(
  given: string,
  paths: readonly string[],
  cwd = process.cwd(),
): ModuleSpec {
  const { name, exportName } = splitExport(given);
  const tried: string[] = [];
  const filePath = name.startsWith("file:") ? fileURLToPath(name) : name;
  for (const base of paths.map((dir) => path.resolve(cwd, dir))) {
    const target = path.resolve(base, filePath);
    for (const candidate of [
      ...EXTENSIONS.map((ext) => target + ext),
      ...EXTENSIONS.slice(1).map((ext) => path.join(target, `index${ext}`)),
    ]) {
      if (isFile(candidate)) return { given, url: pathToFileURL(candidate).href, exportName };
    }
    tried.push(target);
    if (!path.isAbsolute(filePath) && !filePath.startsWith(".")) {
      try {
        const resolved = createRequire(path.join(base, "noop.js")).resolve(name);
        return { given, url: pathToFileURL(resolved).href, exportName };
      } catch {
        tried.push(`package ${name} from ${base}`);
      }
    }
  }
  throw new ModuleLoadError(
    `module not found: ${JSON.stringify(name)} (tried ${tried.join(", ")})`,
  );
}

/** Whether a value is a dq Broker (also across a duplicate copy of @dq/core). */
export function isBroker(value: unknown): value is Broker {
  if (value instanceof Broker) return true;
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    ["consume", "enqueue", "declareActor", "addMiddleware"].every(
      (key) => typeof candidate[key] === "function",
    ) && Array.isArray(candidate.middleware)
  );
}

let tsxRegistered = false;

async function registerTypeScript(): Promise<void> {
  if (tsxRegistered) return;
  tsxRegistered = true;
  const { register } = await import("tsx/esm/api");
  register();
  // Isolated actors' threads import TypeScript modules too (tsx's hooks do not reach them).
  addThreadPreload(new URL("./thread-typescript.js", import.meta.url).href, { typescript: true });
}

/**
 * Imports the modules in a worker: those naming a broker export first (it becomes the global
 * broker, as Dramatiq imports its broker module first), then the others in order. GenericActor
 * classes that a module exports are declared.
 * @returns how many class-based actors were declared
 * @throws ModuleLoadError naming the module on any import failure or a non-Broker export
 */
export async function loadModules(specs: readonly ModuleSpec[]): Promise<number> {
  if (specs.some((spec) => TYPESCRIPT.test(new URL(spec.url).pathname))) await registerTypeScript();
  const ordered = [
    ...specs.filter((spec) => spec.exportName),
    ...specs.filter((spec) => !spec.exportName),
  ];
  let declared = 0;
  for (const spec of ordered) {
    let namespace: Record<string, unknown>;
    try {
      namespace = (await import(spec.url)) as Record<string, unknown>;
    } catch (error) {
      throw new ModuleLoadError(
        `could not import ${JSON.stringify(spec.given)}: ${(error as Error)?.stack ?? String(error)}`,
        { cause: error },
      );
    }
    // A CommonJS module's exports arrive as `default` (and, when detectable, as named exports).
    const defaults = namespace.default;
    const exported = {
      ...(typeof defaults === "object" && defaults !== null
        ? (defaults as Record<string, unknown>)
        : {}),
      ...namespace,
    };
    if (spec.exportName) {
      const value = exported[spec.exportName];
      if (!isBroker(value)) {
        const what =
          value === undefined
            ? "nothing"
            : typeof value === "object" && value
              ? `a ${value.constructor.name}`
              : typeof value;
        throw new ModuleLoadError(
          `${JSON.stringify(spec.given)}: export ${JSON.stringify(spec.exportName)} is not a Broker (found ${what})`,
        );
      }
      setBroker(value);
    }
    for (const value of new Set(Object.values(exported))) {
      if (!GenericActor.isActorClass(value)) continue;
      try {
        GenericActor.declare(value);
        declared++;
      } catch (error) {
        throw new ModuleLoadError(
          `${JSON.stringify(spec.given)}: could not declare ${value.name}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
  }
  return declared;
}
