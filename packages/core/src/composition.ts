import { clockNow } from "./clock.js";
import type { Broker } from "./broker.js";
import { InvalidOptionError, ResultMissing, ResultTimeout } from "./errors.js";
import { currentGlobalBroker } from "./global-registry.js";
import type { Message, MessageData } from "./message.js";
import type {
  GroupResults,
  PipelineMissing,
  PipelineResult,
  PipelineStep,
  PipelineSteps,
} from "./composition-types.js";
import type { ResultBackend } from "./results/result-backend.js";
import { uuid4 } from "./uuid.js";

/** What `getResult(s)` of a group or pipeline takes. */
export interface CompositionResultOptions {
  block?: boolean;
  /** Overall timeout in ms for blocking reads (default 10 000), shared by every step. */
  timeout?: number;
  backend?: ResultBackend;
}

/**
 * A middleware that can prepare group completion callbacks (the `GroupCallbacks` of
 * `@dq/rate-limits` is one): it creates the barrier that the group's children count down.
 */
export interface GroupCompletionMiddleware {
  prepareGroupCompletion(groupId: string, parties: number): Promise<void>;
}

function completionMiddleware(broker: Broker): GroupCompletionMiddleware | undefined {
  return broker.middleware.find(
    (m): m is never =>
      typeof (m as unknown as Partial<GroupCompletionMiddleware>).prepareGroupCompletion ===
      "function",
  );
}

function backendOf(broker: Broker, options: CompositionResultOptions): ResultBackend {
  return options.backend ?? broker.getResultsBackend();
}

/** A shared deadline for reading several results. */
function remaining(deadline: number, timeout: number): number {
  const rest = deadline - clockNow();
  if (rest <= 0) throw new ResultTimeout(`timed out after ${timeout} ms waiting for results`);
  return rest;
}

/**
 * Messages run one after the other, each result appended to the next message's arguments
 * (unless that message has `pipeIgnore`). Built by `pipeline([...])` or `message.pipe(next)`.
 * `R` is the type of the last step's result; `Missing` (types only) the argument its first step
 * leaves to a previous step when it was built with `message.partial` (`[]` when it is complete).
 */
export class Pipeline<R = unknown, Missing extends unknown[] = []> {
  readonly broker: Broker;
  /** Carries the first step's missing argument only; never set (see `Message`). */
  declare readonly __missing?: (...previousResult: Missing) => void;
  /** The steps, each carrying the rest of the pipeline in `options.pipeTarget`. */
  readonly messages: readonly Message[];

  /** Use `pipeline([...])`, which checks the steps against each other. */
  constructor(children: readonly PipelineStep[], options: { broker?: Broker } = {}) {
    this.broker = options.broker ?? currentGlobalBroker();
    const flat: Message[] = [];
    for (const child of children) {
      if (child instanceof Pipeline)
        flat.push(...child.messages.map((message) => withoutPipeTarget(message)));
      else flat.push((child as Message).copy());
    }
    for (let i = flat.length - 2; i >= 0; i--)
      flat[i] = flat[i]!.copy({ options: { pipeTarget: flat[i + 1]!.asDict() } });
    this.messages = flat;
  }

  get length(): number {
    return this.messages.length;
  }

  /**
   * The pipeline with `next` appended: a message (complete, or built with `message.partial` to
   * take this pipeline's result as its last argument) or another pipeline.
   */
  pipe<N>(
    next: Message<N, [previousResult: R]> | Pipeline<N, [previousResult: R]>,
  ): Pipeline<N, Missing> {
    return new Pipeline<N, Missing>([this, next], { broker: this.broker });
  }

  /**
   * Enqueues the first step, after `delay` ms (or the first message's own `delay`, whichever is larger).
   */
  async run(this: Pipeline<R>, options: { delay?: number } = {}): Promise<Pipeline<R>> {
    const first = this.messages[0];
    if (!first) return this;
    const delay = Math.max(options.delay ?? 0, first.options.delay ?? 0);
    await this.broker.enqueue(first, { delay: delay || undefined });
    return this;
  }

  /** Whether the last step has a result. */
  get completed(): Promise<boolean> {
    return this.completedCount.then((count) => count === this.messages.length);
  }

  /** How many steps have results (the index of the first step without one). */
  get completedCount(): Promise<number> {
    return (async () => {
      const backend = backendOf(this.broker, {});
      for (let i = 0; i < this.messages.length; i++) {
        try {
          await backend.getResult(this.messages[i]!);
        } catch (error) {
          if (ResultMissing.isInstance(error)) return i;
          throw error;
        }
      }
      return this.messages.length;
    })();
  }

  /** The last step's result. */
  getResult(options: CompositionResultOptions = {}): Promise<R> {
    const last = this.messages[this.messages.length - 1] as Message<R> | undefined;
    if (!last) return Promise.reject(new InvalidOptionError("an empty pipeline has no result"));
    return backendOf(this.broker, options).getResult(last, options);
  }

  /** Every step's result, in order, within one shared timeout. */
  async getResults(options: CompositionResultOptions = {}): Promise<unknown[]> {
    const backend = backendOf(this.broker, options);
    const timeout = options.timeout ?? 10_000;
    const deadline = clockNow() + timeout;
    const results: unknown[] = [];
    for (const message of this.messages) {
      results.push(
        await backend.getResult(message, {
          block: options.block,
          timeout: options.block ? remaining(deadline, timeout) : undefined,
        }),
      );
    }
    return results;
  }
}

function withoutPipeTarget(message: Message): Message {
  const copy = message.copy();
  delete copy.options.pipeTarget;
  return copy;
}

/** Children of a group: complete messages (not `message.partial`), pipelines and groups. */
export type GroupChild = Message | Pipeline | Group;

/**
 * Messages (and pipelines, and groups) run in parallel. With `addCompletionCallback` and the
 * `GroupCallbacks` middleware installed, callbacks run once every child has succeeded.
 * `R` is the tuple of the children's result types, in order.
 */
export class Group<R extends unknown[] = unknown[]> {
  readonly broker: Broker;
  readonly children: readonly GroupChild[];
  /** Callback messages (wire shape), sent when every child has completed. */
  readonly completionCallbacks: MessageData[] = [];

  constructor(children: readonly GroupChild[], options: { broker?: Broker } = {}) {
    this.broker = options.broker ?? currentGlobalBroker();
    this.children = [...children];
  }

  get length(): number {
    return this.children.length;
  }

  /** Adds a message to send once every child completed successfully. */
  addCompletionCallback(message: Message): this {
    this.completionCallbacks.push(message.asDict());
    return this;
  }

  /**
   * Enqueues every child (nested groups and pipelines through their own `run`).
   * @throws InvalidOptionError when callbacks are set and no GroupCallbacks middleware is installed
   */
  async run(options: { delay?: number } = {}): Promise<this> {
    let children = this.children;
    if (this.completionCallbacks.length) {
      const middleware = completionMiddleware(this.broker);
      if (!middleware) {
        throw new InvalidOptionError(
          "group completion callbacks need the GroupCallbacks middleware (from @dq/rate-limits) on the broker",
        );
      }
      const groupId = uuid4();
      await middleware.prepareGroupCompletion(groupId, children.length);
      const extra = {
        groupCompletionUuid: groupId,
        groupCompletionCallbacks: this.completionCallbacks,
      };
      children = children.map((child) => {
        if (child instanceof Group) {
          if (child.completionCallbacks.length)
            throw new InvalidOptionError(
              "nested groups with completion callbacks are not supported",
            );
          return child;
        }
        if (child instanceof Pipeline) {
          const steps = [...child.messages.map((message) => withoutPipeTarget(message))];
          steps[steps.length - 1] = steps[steps.length - 1]!.copy({ options: extra });
          return new Pipeline(steps, { broker: child.broker });
        }
        return child.copy({ options: extra });
      });
    }
    const messages = children.filter(
      (child): child is Message => !(child instanceof Group) && !(child instanceof Pipeline),
    );
    if (messages.length) await this.broker.enqueueMany(messages, { delay: options.delay });
    for (const child of children) {
      if (child instanceof Group) await child.run(options);
      else if (child instanceof Pipeline) await child.run(options);
    }
    return this;
  }

  /** How many children have completed. */
  get completedCount(): Promise<number> {
    return (async () => {
      let count = 0;
      for (const child of this.children) {
        if (await childCompleted(this.broker, child)) count++;
      }
      return count;
    })();
  }

  /** Whether every child has completed. */
  get completed(): Promise<boolean> {
    return this.completedCount.then((count) => count === this.children.length);
  }

  /**
   * Every child's result in order (a nested group gives an array, a pipeline its last result),
   * within one shared timeout.
   */
  async getResults(options: CompositionResultOptions = {}): Promise<R> {
    const timeout = options.timeout ?? 10_000;
    const deadline = clockNow() + timeout;
    const results: unknown[] = [];
    for (const child of this.children) {
      const childOptions = {
        ...options,
        timeout: options.block ? remaining(deadline, timeout) : undefined,
      };
      if (child instanceof Group) results.push(await child.getResults(childOptions));
      else if (child instanceof Pipeline) results.push(await child.getResult(childOptions));
      else results.push(await backendOf(this.broker, options).getResult(child, childOptions));
    }
    return results as R;
  }

  /** Waits until every child has a result. */
  async wait(options: { timeout?: number; backend?: ResultBackend } = {}): Promise<void> {
    await this.getResults({ ...options, block: true });
  }
}

async function childCompleted(broker: Broker, child: GroupChild): Promise<boolean> {
  if (child instanceof Group || child instanceof Pipeline) return child.completed;
  try {
    await backendOf(broker, {}).getResult(child);
    return true;
  } catch (error) {
    if (ResultMissing.isInstance(error)) return false;
    throw error;
  }
}

/**
 * Builds a pipeline: each step's result is appended to the next step's arguments. A step built
 * with `actor.message.partial(...leading)` must take the previous step's result as its missing
 * last argument (checked at compile time); `getResult()` has the last step's result type.
 * @example pipeline([fetchPrice.message("WIDGET"), applyDiscount.message.partial(15)])
 */
export function pipeline<const S extends readonly PipelineStep[]>(
  children: PipelineSteps<S>,
  options: { broker?: Broker } = {},
): Pipeline<PipelineResult<S>, PipelineMissing<S>> {
  return new Pipeline<PipelineResult<S>, PipelineMissing<S>>(children, options);
}

/**
 * Builds a group: children run in parallel. `getResults()` is typed as the tuple of the
 * children's result types (an array for an array of messages).
 */
export function group<const C extends readonly GroupChild[]>(
  children: C,
  options: { broker?: Broker } = {},
): Group<GroupResults<C>> {
  return new Group<GroupResults<C>>(children, options);
}
