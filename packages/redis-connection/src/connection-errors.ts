// Why a dq Redis client cannot talk to Redis, in distinct messages that name the host and port
// (never the password): refused, unreachable, authentication failed, timed out, TLS handshake failed.
import { ConnectionFailed } from "@dq/core";
import { isUnreachableCode, maskUrl } from "@dq/core/adapter";
import type { Redis } from "ioredis";

/** The ways of not reaching Redis that a message tells apart. */
export type ConnectionProblem = "refused" | "unreachable" | "auth" | "timeout" | "tls";

/** Node's codes for a TLS handshake that failed: an untrusted or expired certificate, a name mismatch, a non-TLS peer. */
const TLS_CODES = /CERT|^ERR_TLS_|^ERR_SSL_|SELF_SIGNED|^UNABLE_TO_/;

/** Where a broker connects, for messages: `host:port` and the URL with its password masked. */
export interface Endpoint {
  address: string;
  url: string | undefined;
}

/** The endpoint of a URL or of ioredis's `host`/`port` options (ioredis's defaults when unset). */
export function endpointOf(
  url: string | undefined,
  options: {
    host?: string;
    port?: number;
    sentinels?: readonly Partial<{ host: string; port: number }>[] | null;
    name?: string;
  },
): Endpoint {
  // ioredis asks the sentinels for the master whenever they are given, URL or not.
  if (options.sentinels?.length) {
    const sentinels = options.sentinels.map(
      (sentinel) => `${sentinel.host ?? "127.0.0.1"}:${sentinel.port ?? 26379}`,
    );
    return {
      address: `master "${options.name ?? "mymaster"}" via sentinels ${sentinels.join(", ")}`,
      url: undefined,
    };
  }
  if (url) {
    try {
      const parsed = new URL(url);
      return {
        address: `${parsed.hostname || "127.0.0.1"}:${parsed.port || 6379}`,
        url: maskUrl(url),
      };
    } catch {
      return { address: url, url: undefined };
    }
  }
  return { address: `${options.host ?? "127.0.0.1"}:${options.port ?? 6379}`, url: undefined };
}

/** Which problem an ioredis error is, or undefined for another error. */
export function classifyConnectionError(error: unknown): ConnectionProblem | undefined {
  // Not `instanceof Error`: errors from Node's net module may come from another realm (jest, vm).
  if (typeof error !== "object" || error === null || typeof (error as Error).message !== "string")
    return undefined;
  const { code, message } = error as { code?: string; message: string };
  if (code === "ECONNREFUSED") return "refused";
  if (code && isUnreachableCode(code)) return "unreachable";
  if (code === "ETIMEDOUT" || /connect ETIMEDOUT/.test(message)) return "timeout";
  if (code && TLS_CODES.test(code)) return "tls";
  if (/^(WRONGPASS|NOAUTH|ERR AUTH|ERR invalid password|ERR Client sent AUTH)/.test(message))
    return "auth";
  return undefined;
}

/** The message of one problem, naming host and port; `detail` is the underlying error's text. */
export function describeConnectionProblem(
  problem: ConnectionProblem,
  endpoint: Endpoint,
  detail: string,
  timeout: number,
): string {
  const at =
    endpoint.url && endpoint.url !== endpoint.address
      ? `${endpoint.address} (${endpoint.url})`
      : endpoint.address;
  switch (problem) {
    case "refused":
      return `connection refused by ${at}: nothing accepts connections on that port; is Redis running there? (${detail})`;
    case "unreachable":
      return `Redis host unreachable: ${at} (${detail}); check the host name and the network`;
    case "auth":
      return `authentication failed at ${at}: ${detail.replace(/\.$/, "")}; check the user and password in the URL`;
    case "timeout":
      return `timed out connecting to ${at}: no answer within ${timeout} ms (${detail})`;
    case "tls":
      return `TLS handshake with ${at} failed: ${detail}; check the CA (tls.ca) and the server name (tls.servername)`;
  }
}

/**
 * Waits until `client` is ready, for a broker's first command: rejects with a ConnectionFailed
 * naming the problem on a refused, unreachable or failed-authentication connection, or once
 * `timeout` ms pass without Redis answering (a server that accepts and never replies).
 * @param lastError - the connection error the client reported before this wait, if any
 */
export function waitUntilReady(
  client: Redis,
  endpoint: Endpoint,
  timeout: number,
  lastError?: unknown,
): Promise<void> {
  return new Promise((resolve, reject) => {
    // The connection already failed before anyone waited (ioredis reports it once).
    const known = client.status === "ready" ? undefined : classifyConnectionError(lastError);
    if (known && known !== "timeout") {
      reject(
        new ConnectionFailed(
          describeConnectionProblem(known, endpoint, (lastError as Error).message, timeout),
          { cause: lastError },
        ),
      );
      return;
    }
    const cleanup = () => {
      clearTimeout(timer);
      client.off("ready", onReady);
      client.off("error", onError);
    };
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onError = (error: unknown) => {
      const problem = classifyConnectionError(error);
      if (!problem) return;
      cleanup();
      reject(
        new ConnectionFailed(
          describeConnectionProblem(problem, endpoint, (error as Error).message, timeout),
          { cause: error },
        ),
      );
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new ConnectionFailed(
          describeConnectionProblem("timeout", endpoint, `client status ${client.status}`, timeout),
        ),
      );
    }, timeout);
    client.on("ready", onReady);
    client.on("error", onError);
    if (client.status === "wait") client.connect().catch(() => undefined);
  });
}
