import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { header, HttpError, parseCookies } from "./http.js";

/** The cookie holding the CSRF token (HttpOnly, SameSite=Strict). */
export const CSRF_COOKIE = "dq_dashboard_csrf";
/** The header every state-changing request repeats the token in. */
export const CSRF_HEADER = "x-dq-csrf";

/**
 * CSRF protection by a double-submit token bound to an HttpOnly SameSite=Strict cookie: the token
 * is a nonce signed with this dashboard's secret (a cookie planted by another site or subdomain
 * does not verify); a POST must carry it both in the cookie and in `x-dq-csrf`, and must not come
 * from another origin.
 */
export class Csrf {
  private readonly secret = randomBytes(32);

  private sign(nonce: string): string {
    return createHmac("sha256", this.secret).update(nonce).digest("base64url");
  }

  private valid(token: string | undefined): token is string {
    if (!token) return false;
    const [nonce, signature] = token.split(".");
    if (!nonce || !signature) return false;
    const expected = Buffer.from(this.sign(nonce));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** The request's valid token, or a new one with the Set-Cookie header that binds it. */
  session(req: IncomingMessage, cookiePath: string): { token: string; setCookie?: string } {
    const existing = parseCookies(header(req, "cookie")).get(CSRF_COOKIE);
    if (this.valid(existing)) return { token: existing };
    const nonce = randomBytes(24).toString("base64url");
    const token = `${nonce}.${this.sign(nonce)}`;
    const secure = isHttps(req) ? "; Secure" : "";
    return {
      token,
      setCookie: `${CSRF_COOKIE}=${token}; Path=${cookiePath}; HttpOnly; SameSite=Strict${secure}`,
    };
  }

  /**
   * Checks a state-changing request.
   * @throws HttpError 403 `csrf` without a matching token or from another origin
   */
  check(req: IncomingMessage): void {
    const origin = header(req, "origin");
    if (origin !== undefined && !sameOrigin(origin, header(req, "host"))) {
      throw new HttpError(403, "csrf", `cross-origin request refused (Origin ${origin})`);
    }
    if (header(req, "sec-fetch-site") === "cross-site") {
      throw new HttpError(403, "csrf", "cross-site request refused");
    }
    const cookie = parseCookies(header(req, "cookie")).get(CSRF_COOKIE);
    const sent = header(req, CSRF_HEADER);
    if (!this.valid(cookie) || sent !== cookie) {
      throw new HttpError(
        403,
        "csrf",
        `missing or invalid CSRF token: send the ${CSRF_HEADER} header with the token from api/session`,
      );
    }
  }
}

function isHttps(req: IncomingMessage): boolean {
  const socket = req.socket as { encrypted?: boolean } | undefined;
  return Boolean(socket?.encrypted) || header(req, "x-forwarded-proto") === "https";
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Masks the passwords of URLs inside any text (errors, logs). */
export function maskSecrets(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^/@\s:]*):([^/@\s]*)@/gi, "$1$2:***@");
}
