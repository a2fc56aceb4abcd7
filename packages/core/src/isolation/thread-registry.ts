/**
 * Inside an isolated actor's worker thread, `actor()` declares nothing on a broker: it records the
 * actor here, by name, for the thread's entry to run. The registry lives on `globalThis`, so a
 * module importing another copy of `@dq/core` registers where the entry looks.
 */
import { isMainThread, workerData } from "node:worker_threads";
import type { Actor } from "../actor.js";
import { MessageProxy } from "../consumer.js";
import { executionStore, type ExecutionContext } from "../execution.js";
import { Message, type MessageData } from "../message.js";

/** The `workerData` marker of dq's isolation threads. */
export const THREAD_MARKER = "dqIsolationThread";

/** Whether this code runs in one of dq's isolation threads (where `actor()` only registers). */
export const inIsolationThread: boolean =
  !isMainThread &&
  typeof workerData === "object" &&
  workerData !== null &&
  (workerData as Record<string, unknown>)[THREAD_MARKER] === true;

/** One invocation in a thread: its outcome, and how to interrupt it. */
export interface ThreadInvocation {
  readonly outcome: unknown;
  interrupt(reason: Error): void;
}

/** A registered actor, run by the thread's entry. */
export interface ThreadActor {
  run(message: MessageData, current: boolean): ThreadInvocation;
}

const REGISTRY = Symbol.for("dq.isolation.actors");

/** @returns the thread's actors by name */
export function threadActors(): Map<string, ThreadActor> {
  const holder = globalThis as unknown as Record<symbol, Map<string, ThreadActor> | undefined>;
  return (holder[REGISTRY] ??= new Map<string, ThreadActor>());
}

/**
 * Records an actor declared in this thread. Its invocations run in an execution context of this
 * copy of core, so `CurrentMessage` and `getAbortSignal()` work in the actor as in a worker.
 */
export function registerThreadActor(actor: Actor): void {
  threadActors().set(actor.actorName, {
    run(data, current) {
      const proxy = new MessageProxy(Message.fromDict(data));
      const context: ExecutionContext = { message: proxy, current: current ? proxy : null };
      let outcome: unknown;
      try {
        outcome = executionStore.run(context, () => actor.invoke(proxy.args, proxy.kwargs));
      } catch (error) {
        outcome = Promise.reject(error);
      }
      return { outcome, interrupt: (reason) => proxy.interrupt(reason) };
    },
  });
}
