import type { MiddlewareHandler } from "hono";
import { cors as honoCors } from "hono/cors";
import type { AppEnv } from "../env";

/** CORS only for the origins in CORS_ORIGINS; with none configured, no CORS headers at all. */
export const cors: MiddlewareHandler<AppEnv> = async (c, next) => {
  const allowed = c.get("config").corsOrigins;
  if (allowed.length === 0) return next();
  return honoCors({
    origin: (origin) => (allowed.includes(origin) ? origin : null),
    allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    allowHeaders: ["Authorization", "Content-Type", "X-API-Key", "X-Request-Id", "Idempotency-Key"],
    exposeHeaders: ["X-Request-Id", "RateLimit", "RateLimit-Policy", "Retry-After"],
    maxAge: 600,
    credentials: false,
  })(c, next);
};
