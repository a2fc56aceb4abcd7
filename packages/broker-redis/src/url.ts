import { InvalidOptionError } from "@dq/core";

/** The URL without its `namespace` query parameter, and that parameter. */
export function splitNamespace(url: string | undefined): {
  url: string | undefined;
  namespace: string | undefined;
} {
  if (!url) return { url, namespace: undefined };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url, namespace: undefined };
  }
  const namespace = parsed.searchParams.get("namespace") ?? undefined;
  if (namespace === undefined) return { url, namespace };
  if (!/^[\w.:-]+$/.test(namespace))
    throw new InvalidOptionError(
      `invalid namespace ${JSON.stringify(namespace)} in the Redis URL: expected letters, digits, "_", ".", ":" or "-"`,
    );
  parsed.searchParams.delete("namespace");
  return { url: parsed.toString(), namespace };
}
