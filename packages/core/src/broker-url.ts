import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidOptionError } from "./errors.js";

/**
 * The package that registers each broker URL scheme when imported: the one mapping that
 * `getBrokerAsync()` and the `dq` command use to find the adapter for `DQ_BROKER_URL`.
 */
export const BROKER_ADAPTERS: Readonly<Record<string, string>> = Object.freeze({
  redis: "@dq/broker-redis",
  rediss: "@dq/broker-redis",
  amqp: "@dq/broker-rabbitmq",
  amqps: "@dq/broker-rabbitmq",
});

/** A broker URL for messages: the password (and a password-like username alone) masked. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^/@]*)@/, "//***@");
  }
}

/**
 * The scheme of a broker URL, lower-cased and without `:`.
 * @throws InvalidOptionError when `url` is not a URL
 */
export function urlScheme(url: string): string {
  try {
    return new URL(url).protocol.replace(/:$/, "").toLowerCase();
  } catch (error) {
    throw new InvalidOptionError(
      `invalid broker URL ${JSON.stringify(maskUrl(url))}: expected e.g. redis://127.0.0.1:6379`,
      { cause: error },
    );
  }
}

/** The message of an unknown scheme, listing the known ones. */
export function unknownSchemeMessage(
  scheme: string,
  url: string,
  registered: readonly string[],
): string {
  const known = [...new Set([...Object.keys(BROKER_ADAPTERS), ...registered])].sort();
  return `unknown broker URL scheme ${JSON.stringify(scheme)} in ${JSON.stringify(maskUrl(url))}; known schemes: ${known.join(", ")}`;
}

/** Where a package is looked up, first match wins: the given directories, the main script's, the working directory. */
function searchBases(from: readonly string[]): string[] {
  const main = process.argv[1] ? [path.dirname(path.resolve(process.argv[1]))] : [];
  return [...new Set([...from, ...main, process.cwd()])];
}

/**
 * Imports the adapter package that registers `scheme` (see `BROKER_ADAPTERS`), resolved from
 * `from`, then the main script's directory, then the working directory, then `@dq/core` itself.
 * @returns false when no adapter is known for the scheme
 * @throws InvalidOptionError naming the package to install when it is not installed
 */
export async function importAdapterPackage(
  scheme: string,
  from: readonly string[] = [],
): Promise<boolean> {
  const name = BROKER_ADAPTERS[scheme];
  if (!name) return false;
  const bases = searchBases(from);
  for (const base of bases) {
    let resolved: string;
    try {
      resolved = createRequire(path.join(base, "noop.js")).resolve(name);
    } catch {
      continue;
    }
    await import(pathToFileURL(resolved).href);
    return true;
  }
  try {
    await import(name);
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") throw error;
    throw new InvalidOptionError(
      `broker URL scheme ${JSON.stringify(scheme)} needs the package ${name}, which is not installed ` +
        `(looked from ${bases.join(", ")}): install it with \`npm install ${name}\``,
      { cause: error },
    );
  }
}

/** Socket error codes meaning the host could not be reached (no name, no route). */
const UNREACHABLE_CODES = new Set([
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "EADDRNOTAVAIL",
]);

/**
 * @returns whether a socket error `code` means the host is unreachable (its name does not resolve
 * or there is no route), as opposed to refused or timed out — shared by the adapters' messages
 */
export function isUnreachableCode(code: string): boolean {
  return UNREACHABLE_CODES.has(code);
}
