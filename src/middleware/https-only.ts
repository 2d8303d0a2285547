import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../lib/errors";

/**
 * In production, plain HTTP is redirected (GET/HEAD) or refused (anything else: a redirected POST
 * would already have sent its credentials in the clear, so we must not pretend it worked).
 * Behind a proxy, `X-Forwarded-Proto` tells the scheme the client used.
 */
export const httpsOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!c.get("config").isProduction) return next();
  const url = new URL(c.req.url);
  const scheme = (c.req.header("X-Forwarded-Proto")?.split(",")[0]?.trim() ?? url.protocol.replace(":", "")).toLowerCase();
  if (scheme === "https") return next();
  if (c.req.method === "GET" || c.req.method === "HEAD") {
    url.protocol = "https:";
    return c.redirect(url.toString(), 308);
  }
  throw new ApiError("forbidden", "HTTPS is required.");
};
