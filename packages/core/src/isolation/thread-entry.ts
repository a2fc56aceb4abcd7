/**
 * The main script of an isolated actor's worker thread: imports the actor's module (whose
 * `actor()` calls register here instead of declaring on a broker), runs one message at a time and
 * posts back its result or error. Interrupts from the main thread abort the message's signal.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import { IsolationError } from "../errors.js";
import { GenericActor } from "../generic-actor.js";
import { deserializeError, serializeError, type FromThread, type ToThread } from "./protocol.js";
import { threadActors, type ThreadInvocation } from "./thread-registry.js";

const port = parentPort;
const running = new Map<number, ThreadInvocation>();
const imported = new Map<string, Promise<unknown>>();
/** Interrupts that arrived while their message's module was still loading. */
const early = new Map<number, Error>();

type Importer = (url: string) => Promise<unknown>;
const IMPORTER = Symbol.for("dq.isolation.importer");
const TYPESCRIPT = /\.(c|m)?tsx?$/;
const preloads = ((workerData as { preloads?: string[] }).preloads ?? []).reduce<Promise<unknown>>(
  (previous, url) => previous.then(() => import(url)),
  Promise.resolve(),
);

/** Imports an actor module: through a preload's importer, tsx for TypeScript, or `import()`. */
async function importModule(url: string): Promise<unknown> {
  await preloads;
  const importer = (globalThis as unknown as Record<symbol, Importer | undefined>)[IMPORTER];
  if (importer) return importer(url);
  if (TYPESCRIPT.test(new URL(url).pathname)) {
    const api = pathToFileURL(createRequire(url).resolve("tsx/esm/api")).href;
    const tsx = (await import(api)) as {
      tsImport: (url: string, parent: string) => Promise<unknown>;
    };
    return tsx.tsImport(url, url);
  }
  return import(url);
}

function declareClasses(namespace: Record<string, unknown>): void {
  const defaults = namespace.default;
  const values: unknown[] = [
    ...Object.values(namespace),
    ...(typeof defaults === "object" && defaults !== null
      ? Object.values(defaults as Record<string, unknown>)
      : []),
  ];
  for (const value of new Set(values)) {
    if (GenericActor.isActorClass(value)) GenericActor.declare(value);
  }
}

function post(reply: FromThread): void {
  try {
    port!.postMessage(reply);
  } catch (error) {
    // A result structured clone cannot carry (a function, a class instance with private state).
    port!.postMessage({
      type: "done",
      id: reply.id,
      ok: false,
      error: serializeError(
        new TypeError(
          `the isolated actor's result cannot cross threads: ${(error as Error).message}`,
        ),
      ),
    } satisfies FromThread);
  }
}

async function run(request: Extract<ToThread, { type: "run" }>): Promise<void> {
  const { id, module, actorName } = request;
  try {
    let loading = imported.get(module);
    if (!loading) imported.set(module, (loading = importModule(module)));
    const namespace = (await loading) as Record<string, unknown>;
    // Class-based actors are declared when first used: here, those the module exports.
    if (!threadActors().has(actorName)) declareClasses(namespace);
    const entry = threadActors().get(actorName);
    if (!entry) {
      throw new IsolationError(
        `actor ${actorName} is not declared when its module ${module} is imported in a worker thread: ` +
          `declare isolated actors at the top level of their module (or pass module: the file that declares them)`,
      );
    }
    const invocation = entry.run(request.message, request.current);
    running.set(id, invocation);
    const reason = early.get(id);
    if (reason) invocation.interrupt(reason);
    const value = await invocation.outcome;
    post({ type: "done", id, ok: true, value });
  } catch (error) {
    post({ type: "done", id, ok: false, error: serializeError(error) });
  } finally {
    running.delete(id);
    early.delete(id);
  }
}

port?.on("message", (request: ToThread) => {
  if (request.type === "run") void run(request);
  else {
    const reason = deserializeError(request.reason) as Error;
    const invocation = running.get(request.id);
    if (invocation) invocation.interrupt(reason);
    else early.set(request.id, reason);
  }
});
