import type { Broker } from "./broker.js";
import { InvalidOptionError } from "./errors.js";
import { registerGlobalBrokerProvider } from "./global-registry.js";
import { getLogger } from "./logger.js";
import { StubBroker } from "./stub-broker.js";

/** Builds a broker from a URL; adapters register one per scheme (`redis`, `amqp`). */
export type BrokerFactory = (url: string) => Broker;

const schemes = new Map<string, BrokerFactory>();
let globalBroker: Broker | undefined;

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
 * @throws InvalidOptionError when the URL is invalid or no adapter registered its scheme
 */
export function brokerFromUrl(url: string): Broker {
  let scheme: string;
  try {
    scheme = new URL(url).protocol.replace(/:$/, "").toLowerCase();
  } catch (error) {
    throw new InvalidOptionError(`invalid broker URL ${JSON.stringify(url)}`, { cause: error });
  }
  const factory = schemes.get(scheme);
  if (!factory) {
    const known = getBrokerSchemes();
    throw new InvalidOptionError(
      `no broker registered for scheme ${JSON.stringify(scheme)} (URL ${JSON.stringify(url)}); ` +
        `import the adapter first (e.g. "@dq/broker-redis" for redis://, "@dq/broker-rabbitmq" for amqp://)` +
        (known.length ? `; registered: ${known.join(", ")}` : ""),
    );
  }
  return factory(url);
}

/**
 * @returns the global broker. With none set, builds one from `DQ_BROKER_URL` through the scheme
 * registry, or else an in-memory `StubBroker` (saying so once in the log).
 */
export function getBroker(): Broker {
  if (!globalBroker) {
    const url = process.env.DQ_BROKER_URL;
    if (url) {
      globalBroker = brokerFromUrl(url);
    } else {
      globalBroker = new StubBroker();
      getLogger("dq.broker").info("No broker set and DQ_BROKER_URL is empty: using an in-memory StubBroker.");
    }
  }
  return globalBroker;
}

/** Sets the global broker. */
export function setBroker(broker: Broker | undefined): void {
  globalBroker = broker;
}

registerGlobalBrokerProvider(getBroker);
