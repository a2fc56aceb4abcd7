/**
 * The options `MemcachedResultBackend` reads itself, as one zod schema; memjs's own options pass
 * through to `memjs.Client.create` unchecked.
 */
import { InvalidOptionError } from "@dq/core";
import { z } from "zod";

const show = (value: unknown) =>
  typeof value === "string" ? JSON.stringify(value) : String(value);

/** Each checked option with what a valid value is (in the error message). */
const memcachedOptionsSchema = z.object({
  servers: z.string().optional().meta({ description: 'a "[user:pass@]host[:port],..." string' }),
  namespace: z.string().optional().meta({ description: "a string" }),
  useNamespacePrefixKeys: z.boolean().optional().meta({ description: "a boolean" }),
});

type CheckedName = keyof typeof memcachedOptionsSchema.shape;

/**
 * Checks the backend's own options (each may be left out).
 * @throws InvalidOptionError naming the first bad option and showing its value
 */
export function checkMemcachedOptions(options: Partial<Record<CheckedName, unknown>>): void {
  const parsed = memcachedOptionsSchema.safeParse({
    servers: options.servers,
    namespace: options.namespace,
    useNamespacePrefixKeys: options.useNamespacePrefixKeys,
  });
  if (parsed.success) return;
  const name = parsed.error.issues[0]!.path[0] as CheckedName;
  const expected = memcachedOptionsSchema.shape[name].meta()?.description ?? "a valid value";
  throw new InvalidOptionError(`invalid ${name} ${show(options[name])}: expected ${expected}`);
}
