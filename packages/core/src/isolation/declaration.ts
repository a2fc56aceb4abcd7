/**
 * What `actor(fn, { isolate: "thread" })` checks at declaration: the option's value, and the module
 * a worker thread will import to find the actor (the `module` option, or the file that called
 * `actor()`, read from the call stack).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { InvalidOptionError, IsolationError } from "../errors.js";
import { showValue } from "../option-validation.js";

/** The isolation modes `isolate` accepts. */
export type IsolationMode = "thread";

/** An isolated actor's settings: where its threads find it. */
export interface ActorIsolation {
  readonly mode: IsolationMode;
  /** The `file:` URL of the module that declares the actor. */
  readonly module: string;
}

const TYPESCRIPT = /\.(c|m)?tsx?$/;
const PRELOADS = Symbol.for("dq.isolation.preloads");

/** A module that isolation threads import before any actor module. */
export interface ThreadPreload {
  readonly url: string;
  /** Whether it makes the threads import TypeScript (it sets the `dq.isolation.importer`). */
  readonly typescript: boolean;
}

/** @returns the modules isolation threads import first (kept on `globalThis`, shared by core copies) */
export function threadPreloads(): ThreadPreload[] {
  const holder = globalThis as unknown as Record<symbol, ThreadPreload[] | undefined>;
  return (holder[PRELOADS] ??= []);
}

/**
 * Makes isolation threads import `url` before any actor module (for tools that load modules, such
 * as the `dq` command). A preload with `typescript: true` sets
 * `globalThis[Symbol.for("dq.isolation.importer")]` to a function `(url) => Promise<module>` that
 * threads then import actor modules with (the `dq` command's uses tsx's `tsImport`).
 */
export function addThreadPreload(url: string, options: { typescript?: boolean } = {}): void {
  const preloads = threadPreloads();
  if (!preloads.some((preload) => preload.url === url))
    preloads.push({ url, typescript: options.typescript === true });
}

/** The frames `actor()` runs through inside core (src or dist): skipped when looking for the caller. */
let coreDirectory: string | undefined;

type CallSite = NodeJS.CallSite;

function callSites(): CallSite[] {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- restored as it was
  const original = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 64;
    Error.prepareStackTrace = (_error, sites) => sites;
    const holder: { stack?: CallSite[] } = {};
    Error.captureStackTrace(holder);
    return holder.stack ?? [];
  } finally {
    Error.prepareStackTrace = original;
    Error.stackTraceLimit = limit;
  }
}

/** A stack frame's file as a path, or undefined when it is no file (REPL, eval, node internals). */
function framePath(site: CallSite): string | undefined {
  if (site.isEval()) return undefined;
  const name = site.getFileName() ?? site.getScriptNameOrSourceURL();
  if (!name) return undefined;
  if (name.startsWith("file:")) return fileURLToPath(name);
  return path.isAbsolute(name) ? name : undefined;
}

/**
 * @returns the file of the code that called into core (the module declaring an actor), or a
 *   description of where the call came from when that is no file
 */
export function callerModule(): { file: string } | { where: string } {
  const sites = callSites();
  coreDirectory ??= path.dirname(path.dirname(framePath(sites[0]!) ?? ""));
  for (const site of sites.slice(1)) {
    const file = framePath(site);
    if (file?.startsWith(coreDirectory + path.sep)) continue;
    if (file) return { file };
    const where = site.isEval()
      ? `eval or new Function (${site.getEvalOrigin() ?? "no origin"})`
      : String(site.getFileName() ?? "<anonymous>");
    return { where };
  }
  return { where: "<no caller>" };
}

/**
 * @returns the `file:` URL of the thread entry script: beside this file in `dist/`; when core runs
 *   from its TypeScript sources (its own tests), the built one (`pnpm build` first)
 */
export function threadEntryUrl(): URL {
  const here = framePath(callSites()[0]!) ?? "";
  let directory = path.dirname(here);
  if (here.endsWith(".ts")) {
    directory = path.join(path.dirname(path.dirname(directory)), "dist", "isolation");
  }
  return pathToFileURL(path.join(directory, "thread-entry.js"));
}

/**
 * Whether threads can import a TypeScript module: Node strips types itself, a preload says it
 * makes them, or tsx can be resolved from the module (the threads then import it with tsx's
 * `tsImport`). Loader flags (`--import tsx`) do not reach worker threads on Node 20.
 */
function threadsLoadTypeScript(file: string): boolean {
  if ((process.features as { typescript?: unknown }).typescript) return true;
  if (threadPreloads().some((preload) => preload.typescript)) return true;
  // Node's lookup of a package, by hand (a require hook, as jest's, may resolve differently).
  for (let directory = path.dirname(file); ; directory = path.dirname(directory)) {
    if (existsSync(path.join(directory, "node_modules", "tsx", "package.json"))) return true;
    if (path.dirname(directory) === directory) return false;
  }
}

function moduleUrl(actorName: string, given: unknown): string {
  if (given instanceof URL) given = given.href;
  if (typeof given === "string") {
    if (given.startsWith("file:")) return given;
    if (path.isAbsolute(given)) return pathToFileURL(given).href;
  }
  throw new InvalidOptionError(
    `actor ${actorName}: invalid option module = ${showValue(given)}: expected a file: URL or an absolute path (import.meta.url)`,
    { option: "module", value: given, expected: "a file: URL or an absolute path" },
  );
}

/**
 * Checks `isolate` and `module` at declaration.
 * @returns the actor's isolation, or undefined when it runs in-process
 * @throws InvalidOptionError on a bad value; IsolationError when the module cannot be determined
 *   (inline actor) or loaded in a thread
 */
export function actorIsolation(
  actorName: string,
  isolate: unknown,
  module: unknown,
): ActorIsolation | undefined {
  if (isolate === undefined) {
    if (module === undefined) return undefined;
    throw new InvalidOptionError(
      `actor ${actorName}: option module = ${showValue(module)} is only used with isolate: "thread"`,
      { option: "module", value: module },
    );
  }
  if (isolate !== "thread") {
    throw new InvalidOptionError(
      `actor ${actorName}: invalid option isolate = ${showValue(isolate)}: expected "thread"`,
      { option: "isolate", value: isolate, expected: '"thread"' },
    );
  }
  let url: string;
  if (module !== undefined) url = moduleUrl(actorName, module);
  else {
    const caller = callerModule();
    if (!("file" in caller)) {
      throw new IsolationError(
        `actor ${actorName}: isolate: "thread" runs the actor in a worker thread that imports the module declaring it, ` +
          `but it was declared outside any module file (in ${caller.where}: a REPL, eval or new Function); ` +
          `declare it at the top level of a module, or pass module: import.meta.url`,
      );
    }
    url = pathToFileURL(caller.file).href;
  }
  const file = fileURLToPath(url);
  if (!existsSync(file)) {
    throw new IsolationError(
      `actor ${actorName}: isolate: "thread" needs a module file that threads can import, and ${file} does not exist`,
    );
  }
  if (TYPESCRIPT.test(file) && !threadsLoadTypeScript(file)) {
    throw new IsolationError(
      `actor ${actorName}: isolate: "thread" imports ${file} in a worker thread, which cannot load TypeScript here: ` +
        `install tsx where the module can import it (threads then load it with tsx), run it with the dq command, ` +
        `or pass module: the compiled JavaScript file that declares the actor`,
    );
  }
  return { mode: "thread", module: url };
}
