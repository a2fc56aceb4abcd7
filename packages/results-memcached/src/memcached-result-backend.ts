import memjs from "memjs";
import {
  ConnectionError,
  ResultBackend,
  ResultError,
  getLogger,
  type Logger,
  type ResultBackendOptions,
} from "@dq/core";
import { Missing } from "@dq/core/adapter";
import { checkMemcachedOptions } from "./options.js";

/** The memjs client options the backend passes through (retries, timeouts, failover, ...). */
export type MemjsOptions = Omit<
  memjs.ClientOptions<Buffer, Buffer | null> & memjs.ServerOptions,
  "logger" | "serializer"
>;

/** What `MemcachedResultBackend` takes: the result-backend options, servers, and memjs options. */
export interface MemcachedResultBackendOptions extends ResultBackendOptions, MemjsOptions {
  /** `"[user:pass@]host[:port],..."` (default `127.0.0.1:11211`). Ignored with `client`. */
  servers?: string;
  /** A memjs client to use instead of connecting; the backend never closes it. */
  client?: memjs.Client;
  /** Where memjs reports server failures (default: dq's `dq.MemcachedResultBackend` logger). */
  logger?: Logger;
}

const DEFAULT_SERVERS = "127.0.0.1:11211";
// Memcached reads expiries above 30 days as absolute UNIX times.
const MAX_RELATIVE_EXPIRY = 60 * 60 * 24 * 30;

/**
 * A result backend on Memcached, wire-compatible with Python Dramatiq's `MemcachedBackend`: each
 * result is `SET` under the MD5 key with the encoder's bytes and an expiry of `floor(ttl / 1000)`
 * seconds; blocking reads poll `GET` with backoff (Memcached cannot notify).
 *
 * Two deliberate differences from Python, both for TTLs Python mishandles: a TTL under one second
 * is stored for one second (Python's 0 means "never expires"), and one over 30 days is sent as an
 * absolute time (Python's would be read as a date in 1970, i.e. already expired).
 */
export class MemcachedResultBackend extends ResultBackend {
  /** The memjs client. */
  readonly client: memjs.Client;
  private readonly ownsClient: boolean;
  private readonly servers: string;

  /** @throws InvalidOptionError on a `servers`, `namespace` or `useNamespacePrefixKeys` of the wrong type */
  constructor(options: MemcachedResultBackendOptions = {}) {
    const { namespace, encoder, useNamespacePrefixKeys, servers, client, logger, ...memjsOptions } =
      options;
    checkMemcachedOptions(options);
    super({ namespace, encoder, useNamespacePrefixKeys });
    const log = logger ?? getLogger("dq.MemcachedResultBackend");
    this.servers = servers ?? DEFAULT_SERVERS;
    if (client) {
      this.client = client;
      this.servers = client.servers.map((server) => `${server.host}:${server.port}`).join(",");
      this.ownsClient = false;
    } else {
      // memjs retries twice and logs to the console by default: bound the retries and timeouts so
      // an unreachable server fails within about a second, and log through dq's logger.
      this.client = memjs.Client.create(this.servers, {
        retries: 1,
        retry_delay: 0.1,
        timeout: 0.5,
        conntimeout: 1,
        ...memjsOptions,
        logger: { log: (...args: unknown[]) => log.debug(args.map(String).join(" ")) },
      });
      this.ownsClient = true;
    }
  }

  private failure(what: string, error: unknown): ConnectionError {
    const text = error instanceof Error ? error.message : String(error);
    return new ConnectionError(
      `Memcached result backend (${this.servers}) failed to ${what}: ${text}`,
      { cause: error },
    );
  }

  /** @returns the decoded value under `key`, or `Missing` */
  protected async getValue(key: string): Promise<unknown> {
    let value: Buffer | null;
    try {
      ({ value } = await this.client.get(key));
    } catch (error) {
      throw this.failure("read a result", error);
    }
    if (value === null) return Missing;
    return this.decodeStored("Memcached", key, value);
  }

  /** Stores `data` under `key` for `ttl` ms (whole seconds, at least one). */
  protected async storeValue(key: string, data: Buffer, ttl: number): Promise<void> {
    let expires = Math.max(1, Math.floor(ttl / 1000));
    if (expires > MAX_RELATIVE_EXPIRY) expires += Math.floor(Date.now() / 1000);
    let stored: boolean;
    try {
      stored = await this.client.set(key, data, { expires });
    } catch (error) {
      throw this.failure("store a result", error);
    }
    if (!stored)
      throw new ResultError(
        `Memcached (${this.servers}) refused to store the result under key ${key} (${data.length} bytes; Memcached's item size limit is 1 MiB by default)`,
      );
  }

  /** Closes the backend's own connections (not a `client` passed in). */
  override async close(): Promise<void> {
    if (this.ownsClient) this.client.close();
  }
}
