import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../lib/errors";

/**
 * In production, plain HTTP is redirected (GET/HEAD) or refused (anything else: a redirected POST
 * would already have sent its credentials in the clear, so we must not pretend it worked).
 * The scheme is the request URL's, which Cloudflare sets from the client's connection to its edge;
 * a client-sent `X-Forwarded-Proto` is never trusted (anyone can send `https` over plain HTTP).
 */
export const httpsOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!c.get("config").isProduction) return next();
  const url = new URL(c.req.url);
  if (url.protocol === "https:") return next();
  if (c.req.method === "GET" || c.req.method === "HEAD") {
    url.protocol = "https:";
    return c.redirect(url.toString(), 308);
  }
  throw new ApiError("forbidden", "HTTPS is required.");
};
