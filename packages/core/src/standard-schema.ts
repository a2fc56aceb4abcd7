/**
 * The argument schemas an actor accepts: any Standard Schema (https://standardschema.dev), which
 * zod 3 (from 3.24), zod 4, valibot and arktype all implement. Core reads schemas only through
 * this interface, so it works with whichever zod the application uses, not only core's own.
 */

/** The Standard Schema v1 interface (copied from the specification, as it recommends). */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly "~standard": StandardSchemaV1.Props<Input, Output>;
}

// The specification's own shape: a namespace of types that merges with the interface above.
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace StandardSchemaV1 {
  /** What every Standard Schema carries under `~standard`. */
  export interface Props<Input = unknown, Output = Input> {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => Result<Output> | Promise<Result<Output>>;
    readonly types?: Types<Input, Output> | undefined;
  }
  /** The result of `validate`. */
  export type Result<Output> = SuccessResult<Output> | FailureResult;
  /** A successful validation. */
  export interface SuccessResult<Output> {
    readonly value: Output;
    readonly issues?: undefined;
  }
  /** A failed validation. */
  export interface FailureResult {
    readonly issues: readonly Issue[];
  }
  /** One problem found. */
  export interface Issue {
    readonly message: string;
    readonly path?: readonly (PropertyKey | PathSegment)[] | undefined;
  }
  /** A path segment given as an object. */
  export interface PathSegment {
    readonly key: PropertyKey;
  }
  /** The types a schema carries for inference. */
  export interface Types<Input = unknown, Output = Input> {
    readonly input: Input;
    readonly output: Output;
  }
}

/**
 * A schema of an actor's argument tuple whose parsed value the actor's function accepts, e.g.
 * `z.tuple([z.string().email()])` from zod 3.24+ or zod 4.
 */
export type ArgsSchema<Output extends unknown[] = unknown[]> = StandardSchemaV1<unknown[], Output>;

/** The argument tuple a schema accepts (what `send` takes). */
export type SchemaInput<S> =
  S extends StandardSchemaV1<infer I, unknown> ? (I extends unknown[] ? I : never) : never;

/** Whether `value` implements Standard Schema v1 (zod 3 before 3.24 does not). */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  const props = (value as { "~standard"?: { version?: unknown; validate?: unknown } })["~standard"];
  return (
    typeof props === "object" &&
    props !== null &&
    props.version === 1 &&
    typeof props.validate === "function"
  );
}

/** `path` as `[0]["to"]`, as the argument-validation errors show it. */
export function formatIssuePath(path: StandardSchemaV1.Issue["path"]): string {
  return (path ?? [])
    .map((segment) => {
      const key = typeof segment === "object" ? segment.key : segment;
      return `[${typeof key === "symbol" ? key.toString() : JSON.stringify(key)}]`;
    })
    .join("");
}
