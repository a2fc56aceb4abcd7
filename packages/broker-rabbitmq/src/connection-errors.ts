// Why a RabbitMQ connection could not be opened, in four distinct messages that name the host and
// port (never the password): refused, unreachable, authentication failed, timed out, TLS.
import { isUnreachableCode } from "@dq/core/adapter";

/** `host:port` of an AMQP URL (5672, or 5671 for `amqps:`, when the URL has none). */
export function amqpAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || "localhost"}:${parsed.port || (parsed.protocol === "amqps:" ? 5671 : 5672)}`;
  } catch {
    return "<invalid URL>";
  }
}

/** Node's codes for a server certificate that no trusted CA vouches for. */
const TLS_TRUST_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
]);

/**
 * The message of a failed connection: which of the four problems `error` is (when known), where,
 * and the underlying text. `where` is the redacted URL.
 */
export function describeAmqpFailure(
  error: unknown,
  url: string,
  where: string,
  attempts: number,
): string {
  const address = amqpAddress(url);
  const at = `${address} (${where})`;
  const detail =
    typeof (error as Error | undefined)?.message === "string"
      ? (error as Error).message
      : "unknown error";
  const code = (error as { code?: string } | undefined)?.code;
  const tries = `after ${attempts} attempt(s)`;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID")
    return `TLS: the certificate of ${at} does not name that host ${tries}: ${detail}; connect by a name the certificate carries, or set tls.servername`;
  if (code && TLS_TRUST_CODES.has(code))
    return `TLS: could not verify the certificate of ${at} ${tries} (${code}): ${detail}; give the CA that signed it as tls.ca`;
  if (code && (code === "EPROTO" || code.startsWith("ERR_SSL")))
    return `TLS handshake with ${at} failed ${tries}: ${detail}; is that a TLS (amqps) port, and do the client certificate and key match what it expects?`;
  if (code === "ECONNREFUSED")
    return `connection refused by ${at} ${tries}: nothing accepts connections on that port; is RabbitMQ running there? (${detail})`;
  if (code && isUnreachableCode(code))
    return `RabbitMQ host unreachable: ${at} ${tries} (${detail}); check the host name and the network`;
  if (/ACCESS[-_]REFUSED|\b403\b/.test(detail))
    return `authentication failed at ${at} ${tries}: ${detail}; check the user and password in the URL`;
  if (code === "ETIMEDOUT" || /no answer within|timeout/i.test(detail))
    return `timed out connecting to ${at} ${tries}: ${detail}`;
  return `could not connect to RabbitMQ at ${at} ${tries}: ${detail}`;
}
