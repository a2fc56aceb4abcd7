/**
 * Type-level checks for pipelines and groups. Nothing here exists at run time: a pipeline step
 * built with its leading arguments only is an ordinary `Message` whose type remembers the
 * trailing argument the previous step's result supplies (Dramatiq appends that result to the
 * step's `args` when it enqueues the step).
 */
import type { Group, Pipeline } from "./composition.js";
import type { Message } from "./message.js";

/** Every parameter but the last (or, for a rest parameter, all of them). */
export type LeadingArgs<P extends unknown[]> = number extends P["length"]
  ? P
  : P extends [...infer L, unknown]
    ? L
    : P extends [...infer L, unknown?]
      ? L
      : never;

/** The trailing parameter that the previous pipeline step's result fills, as a one-element tuple. */
export type TrailingArg<P extends unknown[]> = number extends P["length"]
  ? [previousResult: P[number]]
  : P extends [...LeadingArgs<P>, ...infer T]
    ? T
    : never;

/** Any message, complete or built with `message.partial(...)`. */
export type AnyMessage = Message<unknown, never>;

/** Any pipeline, whether or not its first step was built with `message.partial(...)`. */
export type AnyPipeline = Pipeline<unknown, never>;

/** What a pipeline is built of. */
export type PipelineStep = AnyMessage | AnyPipeline;

/** The result type of a pipeline step (a pipeline's is its last step's). */
export type StepResult<S> =
  S extends Pipeline<infer R, never> ? R : S extends Message<infer R, never> ? R : never;

/** The trailing argument a step leaves to the previous step's result (`[]` for a complete one). */
export type StepMissing<S> =
  S extends Pipeline<unknown, infer M> ? M : S extends Message<unknown, infer M> ? M : [];

type CheckStep<S, Previous, First extends boolean> =
  StepMissing<S> extends []
    ? S
    : First extends true
      ? S
      : [Previous] extends StepMissing<S>
        ? S
        : S extends AnyPipeline
          ? Pipeline<StepResult<S>, [previousResult: Previous]>
          : Message<StepResult<S>, [previousResult: Previous]>;

/**
 * The steps of `pipeline([...])`, each checked against the previous one: a step built with
 * `message.partial(...)` must take the previous step's result as its missing argument. A
 * mismatching step is shown as the type it should have had. (A first step built with
 * `message.partial` makes a pipeline that only another pipeline can run: see `PipelineMissing`.)
 */
export type PipelineSteps<
  S extends readonly unknown[],
  Previous = never,
  First extends boolean = true,
> = S extends readonly [infer Head, ...infer Tail]
  ? readonly [CheckStep<Head, Previous, First>, ...PipelineSteps<Tail, StepResult<Head>, false>]
  : S;

/** The argument a pipeline's first step leaves to whatever runs before it (`[]` when complete). */
export type PipelineMissing<S extends readonly unknown[]> = S extends readonly [
  infer First,
  ...unknown[],
]
  ? StepMissing<First>
  : [];

/** The result type of a pipeline of these steps: its last step's. */
export type PipelineResult<S extends readonly unknown[]> = S extends readonly [
  ...unknown[],
  infer Last,
]
  ? StepResult<Last>
  : StepResult<S[number]>;

/** The result type of one group child: a message's result, a pipeline's last, a group's tuple. */
export type GroupChildResult<C> = C extends Group<infer R> ? R : StepResult<C>;

/** The results of a group of these children, in order. */
export type GroupResults<C extends readonly unknown[]> = {
  -readonly [K in keyof C]: GroupChildResult<C[K]>;
};
