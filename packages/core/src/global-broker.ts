import type { Broker } from "./broker.js";
import {
  BROKER_ADAPTERS,
  importAdapterPackage,
  maskUrl,
  unknownSchemeMessage,
  urlScheme,
} from "./broker-url.js";
import { InvalidOptionError } from "./errors.js";
import { registerGlobalBrokerProvider } from "./global-registry.js";
import { getLogger } from "./logger.js";
import { StubBroker } from "./stub-broker.js";

/** Builds a broker from a URL; adapters register one per scheme (`redis`, `amqp`). */
export type BrokerFactory = (url: string) => Broker;

const schemes = new Map<string, BrokerFactory>();
let globalBroker: Broker | undefined;
/** Whether the global broker is the StubBroker `getBroker()` made because nothing was configured. */
let implicit = false;

/**
 * Registers how to build a broker for a URL scheme, so that `DQ_BROKER_URL` can name it.
 * Adapter packages call this when imported (`@dq/broker-redis` registers `redis` and `rediss`).
 * @param scheme - the scheme without `:`, e.g. `redis`
 */
export function registerBrokerScheme(scheme: string, factory: BrokerFactory): void {
  schemes.set(scheme.toLowerCase(), factory);
}

/** The schemes registered so far. */
export function getBrokerSchemes(): string[] {
  return [...schemes.keys()];
}

/**
 * Builds a broker for `url` through the scheme registry.
 * @throws InvalidOptionError when the URL is invalid, its scheme is unknown (the message lists the
 * known ones) or its adapter was not imported yet (`getBrokerAsync()` imports it)
 */
export function brokerFromUrl(url: string): Broker {
  const scheme = urlScheme(url);
  const factory = schemes.get(scheme);
  if (factory) return factory(url);
  const adapter = BROKER_ADAPTERS[scheme];
  if (!adapter) throw new InvalidOptionError(unknownSchemeMessage(scheme, url, getBrokerSchemes()));
  throw new InvalidOptionError(
    `broker URL ${JSON.stringify(maskUrl(url))} needs ${adapter}: \`import "${adapter}"\` first, ` +
      `or use \`await getBrokerAsync()\`, which imports it` +
      (schemes.size ? `; registered: ${getBrokerSchemes().join(", ")}` : ""),
  );
}

/**
 * Builds a broker for `url`, importing the adapter package its scheme needs (`@dq/broker-redis`
 * for `redis://`, `@dq/broker-rabbitmq` for `amqp://`) when it is installed and not imported yet.
 * @param from - directories to resolve the adapter package from first (default: the main
 * script's directory, then the working directory)
 * @throws InvalidOptionError for an invalid URL, an unknown scheme (listing the known ones) or an
 * adapter package that is not installed (naming it)
 */
export async function brokerFromUrlAsync(
  url: string,
  from: readonly string[] = [],
): Promise<Broker> {
  await importBrokerAdapter(url, from);
  return brokerFromUrl(url);
}

/**
 * Makes `url`'s scheme buildable by `getBroker()`: imports the adapter package for it (see
 * `BROKER_ADAPTERS`) unless one registered the scheme already. Builds no broker. The `dq` command
 * calls it for `DQ_BROKER_URL` before importing the user's modules.
 * @param from - directories to resolve the adapter package from first
 * @throws InvalidOptionError for an invalid URL, an unknown scheme (listing the known ones) or an
 * adapter package that is not installed (naming it)
 */
export async function importBrokerAdapter(
  url: string,
  from: readonly string[] = [],
): Promise<void> {
  const scheme = urlScheme(url);
  if (schemes.has(scheme)) return;
  if (!BROKER_ADAPTERS[scheme])
    throw new InvalidOptionError(unknownSchemeMessage(scheme, url, getBrokerSchemes()));
  await importAdapterPackage(scheme, from);
}

function implicitBroker(): Broker {
  implicit = true;
  getLogger("dq.broker").warn(
    "No broker set and DQ_BROKER_URL is empty: using an in-memory StubBroker. Messages sent to it " +
      "exist only in this process; set DQ_BROKER_URL (e.g. redis://127.0.0.1:6379) to share them with workers.",
  );
  return new StubBroker();
}

/**
 * @returns the global broker. With none set, builds one from `DQ_BROKER_URL` through the scheme
 * registry (the adapter must have been imported; `getBrokerAsync()` imports it), or else an
 * in-memory `StubBroker`, warning once that messages will not leave this process.
 * @throws InvalidOptionError when `DQ_BROKER_URL` is invalid or its adapter is not imported
 */
export function getBroker(): Broker {
  if (!globalBroker) {
    const url = process.env.DQ_BROKER_URL;
    globalBroker = url ? brokerFromUrl(url) : implicitBroker();
  }
  return globalBroker;
}

/**
 * `getBroker()` for producers that do not import an adapter: with no broker set and
 * `DQ_BROKER_URL` set, imports the adapter package for its scheme first.
 * @param options.from - directories to resolve the adapter package from first
 * @throws InvalidOptionError for an invalid URL, an unknown scheme (listing the known ones) or an
 * adapter package that is not installed (naming it)
 */
export async function getBrokerAsync(options: { from?: readonly string[] } = {}): Promise<Broker> {
  if (!globalBroker) {
    const url = process.env.DQ_BROKER_URL;
    if (url) {
      const broker = await brokerFromUrlAsync(url, options.from);
      globalBroker ??= broker;
    }
  }
  return getBroker();
}

/**
 * Whether the global broker is the in-memory StubBroker that `getBroker()` made because no broker
 * was set and `DQ_BROKER_URL` was empty (the `dq` command refuses to run on it).
 */
export function isImplicitBroker(): boolean {
  return implicit && globalBroker !== undefined;
}

/** Sets the global broker. */
export function setBroker(broker: Broker | undefined): void {
  globalBroker = broker;
  implicit = false;
}

registerGlobalBrokerProvider(getBroker);
