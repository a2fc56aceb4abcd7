import { createHash } from "node:crypto";
import { clockNow, computeBackoff, sleep } from "../clock.js";
import { getEncoder, type Encoder } from "../encoder.js";
import { DecodeError, ResultFailure, ResultMissing, ResultTimeout } from "../errors.js";
import type { Message } from "../message.js";
import { canonicalQueueName } from "../queue-names.js";

/** Returned by `getValue` when nothing is stored under a key. */
export const Missing: unique symbol = Symbol("dq.results.Missing");

/** What every result backend constructor takes. */
export interface ResultBackendOptions {
  /** Key namespace (default `dramatiq-results`, as in Dramatiq). */
  namespace?: string;
  /** The encoder for stored values (default: the global encoder at construction). */
  encoder?: Encoder;
  /** Use the plain `namespace:queue:actor:id` string as the key instead of its MD5 digest. */
  useNamespacePrefixKeys?: boolean;
}

/** The envelope Dramatiq stores for a failed actor. */
export interface StoredFailure {
  __t: "dramatiq.results.Result";
  exn: { type: string; msg: string };
}

const FAILURE_TAG = "dramatiq.results.Result";

function isStoredFailure(value: unknown): value is StoredFailure {
  return (
    typeof value === "object" && value !== null && (value as { __t?: unknown }).__t === FAILURE_TAG
  );
}

/**
 * The result backend contract: where actors' return values (and failures) are stored, under
 * Dramatiq's keys and envelopes so that Python and Node read each other's results. A backend
 * implements `getValue` and `storeValue`; blocking reads poll with backoff unless it overrides
 * `getResult`.
 */
export abstract class ResultBackend {
  readonly namespace: string;
  readonly encoder: Encoder;
  readonly useNamespacePrefixKeys: boolean;

  constructor(options: ResultBackendOptions = {}) {
    this.namespace = options.namespace ?? "dramatiq-results";
    this.encoder = options.encoder ?? getEncoder();
    this.useNamespacePrefixKeys = options.useNamespacePrefixKeys ?? false;
  }

  /**
   * Reads a message's result.
   * @throws ResultMissing when not blocking and nothing is stored
   * @throws ResultTimeout when blocking and nothing arrives within `timeout` (default 10 000 ms)
   * @throws ResultFailure when the stored value is a failure
   */
  async getResult<R>(
    message: Message<R>,
    options: { block?: boolean; timeout?: number } = {},
  ): Promise<R> {
    const key = this.buildMessageKey(message);
    const timeout = options.timeout ?? 10_000;
    const deadline = clockNow() + timeout;
    for (let attempts = 0; ;) {
      const value = await this.getValue(key);
      if (value !== Missing) return this.unwrapResult(value) as R;
      if (!options.block)
        throw new ResultMissing(
          `no result stored for message ${message.messageId} (${message.actorName}) under key ${key} (results are kept only for actors or messages with storeResults: true)`,
        );
      let delay: number;
      [attempts, delay] = computeBackoff(attempts, { factor: 100, maxBackoff: 2000 });
      if (clockNow() + delay > deadline) {
        const rest = deadline - clockNow();
        if (rest <= 0)
          throw new ResultTimeout(
            `timed out after ${timeout} ms waiting for the result of message ${message.messageId} (${message.actorName})`,
          );
        delay = rest;
      }
      await sleep(delay);
    }
  }

  /** Stores an actor's return value for `ttl` ms. */
  async storeResult(message: Message, result: unknown, ttl: number): Promise<void> {
    await this.storeValue(
      this.buildMessageKey(message),
      this.encoder.encode(result === undefined ? null : result),
      ttl,
    );
  }

  /** Stores an actor's failure for `ttl` ms, as Dramatiq's `{"__t": ..., "exn": {type, msg}}`. */
  async storeException(message: Message, error: unknown, ttl: number): Promise<void> {
    const failure: StoredFailure = { __t: FAILURE_TAG, exn: describeError(error) };
    await this.storeValue(this.buildMessageKey(message), this.encoder.encode(failure), ttl);
  }

  /** The storage key: MD5 hex of `namespace:canonical-queue:actor:message-id`, or that string. */
  buildMessageKey(message: Message): string {
    const key = `${this.namespace}:${canonicalQueueName(message.queueName)}:${message.actorName}:${message.messageId}`;
    return this.useNamespacePrefixKeys ? key : createHash("md5").update(key, "utf8").digest("hex");
  }

  /**
   * @returns the stored value
   * @throws ResultFailure when the value is a stored failure
   */
  unwrapResult(value: unknown): unknown {
    if (isStoredFailure(value)) {
      const { type, msg } = value.exn;
      throw new ResultFailure(`actor raised ${type}: ${msg}`, type, msg);
    }
    return value;
  }

  /** Decodes stored bytes with this backend's encoder. */
  protected decodeValue(data: Buffer | string): unknown {
    return this.encoder.decode(data);
  }

  /**
   * Decodes the bytes stored under `key`.
   * @param store - the server's name for the message (`Redis`, `Memcached`)
   * @throws DecodeError naming the store and key when they are not something the encoder wrote
   */
  protected decodeStored(store: string, key: string, data: Buffer | string): unknown {
    try {
      return this.decodeValue(data);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      throw new DecodeError(
        `the result stored in ${store} under key ${key} does not decode: ${text}`,
        data,
        {
          cause: error,
        },
      );
    }
  }

  /** @returns the decoded value under `key`, or `Missing` */
  protected abstract getValue(key: string): Promise<unknown>;

  /** Stores encoded bytes under `key` for `ttl` ms. */
  protected abstract storeValue(key: string, data: Buffer, ttl: number): Promise<void>;

  /** Closes connections. */
  async close(): Promise<void> {}
}

/** Dramatiq's `{type, msg}` for an error: its class name and its message. */
export function describeError(error: unknown): { type: string; msg: string } {
  if (error instanceof Error) {
    // `class QuotaExceeded extends Error {}` inherits name "Error"; Python reports the class name.
    const type =
      error.name && error.name !== "Error" ? error.name : error.constructor?.name || "Error";
    return { type, msg: error.message };
  }
  return { type: "Error", msg: String(error) };
}
