/**
 * `@dq/rate-limits/memcached` — the Memcached rate-limiter backend (needs the optional peer `memjs`).
 */
import { ConnectionFailed } from "@dq/core";
import memjs from "memjs";
import { RateLimiterBackend } from "@dq/core/adapter";

type MemjsClient = memjs.Client;

/** Options of `MemcachedRateLimiterBackend`. */
export interface MemcachedRateLimiterBackendOptions {
  /** A memjs client to use (not closed by `close()`); other options are then ignored. */
  client?: MemjsClient;
  /** Comma-separated `host:port` list (default env `MEMCACHED_SERVERS`, else 127.0.0.1:11211). */
  servers?: string;
  /** Socket timeout in seconds (memjs `timeout`, default 1). */
  timeout?: number;
  /** Attempts per operation before it fails (memjs `retries`, default 2). */
  retries?: number;
}

// Binary protocol opcodes and statuses (memjs has no API for flags or CAS, which we need).
const GET = 0x00;
const SET = 0x01;
const ADD = 0x02;
const INCREMENT = 0x05;
const DELETE = 0x04;
const DECREMENT = 0x06;
const NOT_FOUND = 0x01;
const EXISTS = 0x02;
const NOT_STORED = 0x05;
// pylibmc stores Python ints with this flag (PYLIBMC_FLAG_LONG) and reads them back as ints,
// so counters written here are ints to Python Dramatiq too. Values are decimal strings either way.
const INTEGER_FLAGS = 1 << 2;
// An INCR/DECR expiration of 0xffffffff means "fail when missing" instead of creating the key.
const FAIL_IF_MISSING = 0xffffffff;
// Memcached reads an expiration above 30 days as an absolute UNIX time.
const MAX_RELATIVE_EXPIRY = 30 * 24 * 3600;
const MAX_CAS_ATTEMPTS = 100;

interface Reply {
  status: number;
  value: Buffer;
  cas: Buffer;
}

/**
 * Rate limits in Memcached, with the layout of Dramatiq's `MemcachedBackend`: keys verbatim,
 * decimal values, expiry in whole seconds (`ttl / 1000`, at least 1 so a short bucket never
 * becomes "never expires"). `incr`/`decr` are native INCR/DECR followed by a bound check; unlike
 * Dramatiq, an `incr` that crossed the maximum is undone with a DECR, so failed attempts do not
 * leak slots. DECR floors at 0 and TTLs are not refreshed, as in Dramatiq. `incrAndSum` is
 * ADD key 0, then a GETS / multi-GET / CAS loop.
 *
 * Memcached cannot block: `wait` throws (as Dramatiq's does), so `Barrier.wait({ block: true })`
 * is not available on this backend; non-blocking barriers and `GroupCallbacks` work.
 */
export class MemcachedRateLimiterBackend extends RateLimiterBackend {
  readonly client: MemjsClient;
  private readonly ownsClient: boolean;
  private readonly where: string;

  constructor(options: MemcachedRateLimiterBackendOptions = {}) {
    super();
    if (options.client) {
      this.client = options.client;
      this.ownsClient = false;
      this.where = options.client.servers
        .map((server) => `${server.host}:${server.port}`)
        .join(",");
      return;
    }
    this.where = options.servers ?? process.env.MEMCACHED_SERVERS ?? "127.0.0.1:11211";
    this.client = memjs.Client.create(this.where, {
      timeout: options.timeout ?? 1,
      conntimeout: options.timeout ?? 1,
      retries: options.retries ?? 2,
      retry_delay: 0.1,
      // memjs logs to the console by default; a library must not.
      logger: { log: () => undefined },
    });
    this.ownsClient = true;
  }

  private request(
    opcode: number,
    key: string,
    extras: Buffer,
    value: Buffer,
    cas?: Buffer,
  ): Promise<Reply> {
    const client = this.client;
    client.incrSeq();
    const seq = client.seq;
    const keyBytes = Buffer.from(key);
    const request = Buffer.alloc(24 + extras.length + keyBytes.length + value.length);
    request.writeUInt8(0x80, 0);
    request.writeUInt8(opcode, 1);
    request.writeUInt16BE(keyBytes.length, 2);
    request.writeUInt8(extras.length, 4);
    request.writeUInt32BE(extras.length + keyBytes.length + value.length, 8);
    request.writeUInt32BE(seq, 12);
    cas?.copy(request, 16);
    extras.copy(request, 24);
    keyBytes.copy(request, 24 + extras.length);
    value.copy(request, 24 + extras.length + keyBytes.length);
    return new Promise((resolve, reject) => {
      client.perform(key, request, seq, (error: Error | null, response?: memjs.Response) => {
        if (error || !response) {
          reject(
            new ConnectionFailed(
              `rate-limiter backend could not reach Memcached at ${this.where}: ${error?.message ?? "no response"}`,
              { cause: error },
            ),
          );
          return;
        }
        resolve({ status: response.header.status, value: response.val, cas: response.header.cas });
      });
    });
  }

  private unexpected(operation: string, key: string, reply: Reply): Error {
    return new Error(
      `Memcached ${operation} of '${key}' failed with status ${reply.status}: ${reply.value.toString()}`,
    );
  }

  private store(
    opcode: number,
    key: string,
    value: number,
    ttl: number,
    cas?: Buffer,
  ): Promise<Reply> {
    const extras = Buffer.alloc(8);
    extras.writeUInt32BE(INTEGER_FLAGS, 0);
    extras.writeUInt32BE(expiry(ttl), 4);
    return this.request(opcode, key, extras, Buffer.from(String(value)), cas);
  }

  private async counter(opcode: number, key: string, amount: number): Promise<number | undefined> {
    const extras = Buffer.alloc(20);
    extras.writeBigUInt64BE(BigInt(amount), 0);
    extras.writeUInt32BE(FAIL_IF_MISSING, 16);
    const reply = await this.request(opcode, key, extras, Buffer.alloc(0));
    if (reply.status === NOT_FOUND) return undefined;
    if (reply.status !== 0)
      throw this.unexpected(opcode === INCREMENT ? "INCR" : "DECR", key, reply);
    return Number(reply.value.readBigUInt64BE(0));
  }

  private async fetch(key: string): Promise<{ text: string; cas: Buffer } | undefined> {
    const reply = await this.request(GET, key, Buffer.alloc(0), Buffer.alloc(0));
    if (reply.status === NOT_FOUND) return undefined;
    if (reply.status !== 0) throw this.unexpected("GET", key, reply);
    return { text: reply.value.toString(), cas: reply.cas };
  }

  private async get(key: string): Promise<{ value: number; cas: Buffer } | undefined> {
    const entry = await this.fetch(key);
    return entry && { value: Number.parseInt(entry.text, 10) || 0, cas: entry.cas };
  }

  private storeString(opcode: number, key: string, value: string, ttl: number, cas?: Buffer) {
    const extras = Buffer.alloc(8);
    extras.writeUInt32BE(expiry(ttl), 4);
    return this.request(opcode, key, extras, Buffer.from(value), cas);
  }

  override async getValue(key: string): Promise<string | undefined> {
    return (await this.fetch(key))?.text;
  }

  override async setValue(key: string, value: string, ttl: number): Promise<void> {
    const reply = await this.storeString(SET, key, value, ttl);
    if (reply.status !== 0) throw this.unexpected("SET", key, reply);
  }

  override async addValue(key: string, value: string, ttl: number): Promise<boolean> {
    const reply = await this.storeString(ADD, key, value, ttl);
    if (reply.status === 0) return true;
    if (reply.status === EXISTS || reply.status === NOT_STORED) return false;
    throw this.unexpected("ADD", key, reply);
  }

  /** GETS, compare, then SET with the CAS token; a concurrent write makes it read again. */
  override async compareAndSet(
    key: string,
    expected: string,
    value: string,
    ttl: number,
  ): Promise<boolean> {
    return this.compareAnd("CAS", key, expected, (cas) =>
      this.storeString(SET, key, value, ttl, cas),
    );
  }

  /** GETS, compare, then DELETE with the CAS token; a concurrent write makes it read again. */
  override async compareAndDelete(key: string, expected: string): Promise<boolean> {
    return this.compareAnd("DELETE", key, expected, (cas) =>
      this.request(DELETE, key, Buffer.alloc(0), Buffer.alloc(0), cas),
    );
  }

  private async compareAnd(
    operation: string,
    key: string,
    expected: string,
    write: (cas: Buffer) => Promise<Reply>,
  ): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const current = await this.fetch(key);
      if (current?.text !== expected) return false;
      const reply = await write(current.cas);
      if (reply.status === 0) return true;
      if (reply.status !== EXISTS && reply.status !== NOT_FOUND)
        throw this.unexpected(operation, key, reply);
    }
    return false;
  }

  override async add(key: string, value: number, ttl: number): Promise<boolean> {
    const reply = await this.store(ADD, key, value, ttl);
    if (reply.status === 0) return true;
    if (reply.status === EXISTS || reply.status === NOT_STORED) return false;
    throw this.unexpected("ADD", key, reply);
  }

  override async incr(key: string, amount: number, maximum: number, ttl: number): Promise<boolean> {
    const value = await this.counter(INCREMENT, key, amount);
    // The key vanished (expired) since the caller's `add`: start it again if the bound allows.
    if (value === undefined) return amount <= maximum && this.add(key, amount, ttl);
    if (value <= maximum) return true;
    await this.counter(DECREMENT, key, amount);
    return false;
  }

  override async decr(
    key: string,
    amount: number,
    minimum: number,
    _ttl: number,
  ): Promise<boolean> {
    const value = await this.counter(DECREMENT, key, amount);
    return (value ?? 0) >= minimum;
  }

  override async incrAndSum(
    key: string,
    keys: () => string[],
    amount: number,
    maximum: number,
    ttl: number,
  ): Promise<boolean> {
    await this.add(key, 0, ttl);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const current = await this.get(key);
      if (!current) return false;
      const value = current.value + amount;
      if (value > maximum) return false;
      const values = await Promise.all(keys().map((k) => this.get(k)));
      const total = values.reduce((sum, entry) => sum + (entry?.value ?? 0), amount);
      if (total > maximum) return false;
      const reply = await this.store(SET, key, value, ttl, current.cas);
      if (reply.status === 0) return true;
      if (reply.status !== EXISTS && reply.status !== NOT_FOUND)
        throw this.unexpected("CAS", key, reply);
    }
    return false;
  }

  /**
   * Memcached cannot block on an event.
   * @throws Error always, as Dramatiq's Memcached backend does; use the Redis backend for blocking barriers
   */
  override async wait(key: string, _timeout: number | undefined): Promise<boolean> {
    throw new Error(
      `the Memcached rate-limiter backend cannot block waiting on '${key}'; use Barrier.wait({ block: false }) or the Redis backend`,
    );
  }

  /** Nothing to notify: no one can be waiting on Memcached. */
  override async waitNotify(_key: string, _ttl: number): Promise<void> {}

  override async close(): Promise<void> {
    if (this.ownsClient) this.client.close();
  }
}

function expiry(ttl: number): number {
  const seconds = Math.max(1, Math.floor(ttl / 1000));
  return seconds > MAX_RELATIVE_EXPIRY ? Math.floor(Date.now() / 1000) + seconds : seconds;
}
