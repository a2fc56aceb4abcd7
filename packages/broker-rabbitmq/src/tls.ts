/**
 * The `tls` option: certificates and server-name checks for `amqps://` URLs, handed to amqplib
 * (which passes them to Node's `tls.connect`).
 */
import { InvalidOptionError } from "@dq/core";
import { z } from "zod";

/** PEM text or bytes. */
export type Pem = string | Buffer;

/** TLS settings for `amqps://` connections. */
export interface RabbitmqTlsOptions {
  /** The CA certificate(s) to trust instead of Node's default list (PEM). */
  ca?: Pem | readonly Pem[];
  /** The client certificate (PEM), for servers that verify clients (`fail_if_no_peer_cert`). */
  cert?: Pem;
  /** The client certificate's private key (PEM). */
  key?: Pem;
  /** The passphrase of `key`, if it is encrypted. Never logged. */
  passphrase?: string;
  /** The name the server's certificate must carry (default: the URL's host). */
  servername?: string;
  /** Check the server's certificate against the CAs (default true). Only ever false for tests. */
  rejectUnauthorized?: boolean;
}

const pem = z.union([z.string(), z.instanceof(Buffer)]);

const tlsSchema = z
  .object({
    ca: z.union([pem, z.array(pem)]).optional(),
    cert: pem.optional(),
    key: pem.optional(),
    passphrase: z.string().optional(),
    servername: z.string().min(1).optional(),
    rejectUnauthorized: z.boolean().optional(),
  })
  .strict();

/**
 * The socket options of `tls`, checked.
 * @throws InvalidOptionError on an unknown key or a value of the wrong kind, or when no URL is `amqps://`
 */
export function tlsSocketOptions(
  tls: RabbitmqTlsOptions | undefined,
  urls: readonly string[],
): Record<string, unknown> {
  if (tls === undefined) return {};
  const parsed = tlsSchema.safeParse(tls);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `tls.${issue.path.join(".")}` : "tls";
    // Never the value: it may be a key or a passphrase.
    throw new InvalidOptionError(
      `invalid ${where}: ${issue.message} (expected PEM strings or Buffers for ca/cert/key, a string servername and passphrase, a boolean rejectUnauthorized)`,
    );
  }
  if (!urls.some((url) => url.startsWith("amqps:")))
    throw new InvalidOptionError(
      "invalid tls: no URL is amqps://, so the TLS settings would be ignored; use amqps:// URLs",
    );
  if ((parsed.data.cert === undefined) !== (parsed.data.key === undefined))
    throw new InvalidOptionError("invalid tls: cert and key go together; give both or neither");
  const { ca, ...rest } = parsed.data;
  return { ...rest, ...(ca === undefined ? {} : { ca: Array.isArray(ca) ? ca : [ca] }) };
}
