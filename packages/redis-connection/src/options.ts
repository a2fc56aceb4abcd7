import { InvalidOptionError } from "@dq/core";
import type { ZodObject, ZodType } from "zod";

/**
 * Checks an adapter's own options against its zod schema (an object of optional fields).
 * @param expected - per option, what a valid value is, for the message
 * @returns the parsed options
 * @throws InvalidOptionError naming the first bad option and showing its value: `invalid heartbeatTimeout -1: expected a number >= 0`
 */
export function checkOptions<Shape extends Record<string, ZodType>>(
  schema: ZodObject<Shape>,
  options: Readonly<Record<string, unknown>>,
  expected: { readonly [Name in keyof Shape]: string },
): ReturnType<ZodObject<Shape>["parse"]> {
  const picked: Record<string, unknown> = {};
  for (const name of Object.keys(schema.shape)) picked[name] = options[name];
  const parsed = schema.safeParse(picked);
  if (parsed.success) return parsed.data;
  const name = String(parsed.error.issues[0]!.path[0]) as keyof Shape & string;
  const value = options[name];
  throw new InvalidOptionError(`invalid ${name} ${String(value)}: expected ${expected[name]}`);
}
