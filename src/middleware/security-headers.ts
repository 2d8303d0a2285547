import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";

/**
 * Every response carries what a JSON API needs (the OWASP REST Security set): HSTS (over HTTPS),
 * `nosniff`, framing refused twice over (`X-Frame-Options` for old browsers, CSP `frame-ancestors`),
 * `no-store` unless the route chose its own caching, and the request id.
 *
 * Headers that only act on a document a browser renders go on HTML answers alone (dashboard
 * pages, the API reference): `Referrer-Policy: no-referrer` (token pages carry the token in their
 * URL), `Cross-Origin-Opener-Policy`, `Cross-Origin-Resource-Policy` and `X-XSS-Protection: 0`.
 * A JSON answer has no links to leak a referrer through, opens no windows, and is only readable
 * with a bearer token or the SameSite=Lax session cookie, which a cross-site `no-cors` load does
 * not carry. Each header is set on every response and copied again by every hop, so the set is
 * what each kind of answer needs, not every header there is.
 */
export const securityHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const h = c.res.headers;
  // Only over HTTPS (RFC 6797 §7.2: a host MUST NOT send it over plain HTTP, where an attacker
  // could forge or strip it anyway). In production every request Pulse answers is HTTPS.
  if (c.req.url.startsWith("https:")) h.set("Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload");
  h.set("X-Content-Type-Options", "nosniff");
  h.set("X-Frame-Options", "DENY");
  // Dashboard pages set their own policy (nonces for their scripts); everything else loads nothing.
  if (!h.has("Content-Security-Policy")) h.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  if (h.get("Content-Type")?.startsWith("text/html")) {
    h.set("Referrer-Policy", "no-referrer");
    h.set("X-XSS-Protection", "0");
    h.set("Cross-Origin-Opener-Policy", "same-origin");
    h.set("Cross-Origin-Resource-Policy", "same-origin");
  }
  h.delete("Server");
  h.delete("X-Powered-By");
  // Answers are private or change from one request to the next: never cached unless a route says so.
  if (!h.has("Cache-Control")) h.set("Cache-Control", "no-store");
  h.set("X-Request-Id", c.get("requestId"));
};
