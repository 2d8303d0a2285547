import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";

/** Headers fit for a JSON API that no browser should frame, sniff or cache when authenticated. */
export const securityHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const h = c.res.headers;
  h.set("Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload");
  h.set("X-Content-Type-Options", "nosniff");
  h.set("X-Frame-Options", "DENY");
  // Dashboard pages set their own policy (nonces for their scripts); everything else loads nothing.
  if (!h.has("Content-Security-Policy")) h.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  h.set("Referrer-Policy", "no-referrer");
  h.set("X-XSS-Protection", "0");
  h.set("Cross-Origin-Opener-Policy", "same-origin");
  h.set("Cross-Origin-Resource-Policy", "same-origin");
  h.delete("Server");
  h.delete("X-Powered-By");
  // Answers are private or change from one request to the next: never cached unless a route says so.
  if (!h.has("Cache-Control")) h.set("Cache-Control", "no-store");
  h.set("X-Request-Id", c.get("requestId"));
};
