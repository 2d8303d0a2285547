/**
 * The rate limiter on HTTP routes (`src/rate-limit/service.ts` decides): limits come from config
 * (and per project from `projects.rate_limit_per_min`); each response carries the IETF draft
 * `RateLimit-Policy` and `RateLimit` headers, errors included, and a 429 adds `Retry-After`.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { clientAddressKey } from "../rate-limit/client-key";
import { applyRateLimit, type RateLimitCheck } from "../rate-limit/service";
import { clientIp } from "./request-context";

/**
 * Counts this request (see `applyRateLimit` for the failure rules) and sets the headers on the
 * context, so every response of the route carries them. Returns "unavailable" when the limiter
 * could not be asked and the check fails open.
 */
export async function enforceRateLimit(c: Context<AppEnv>, check: RateLimitCheck): Promise<"checked" | "unavailable"> {
  const outcome = await applyRateLimit({ limiter: c.env.RATE_LIMITER, logger: c.var.logger }, check);
  if (outcome.status === "unavailable") return "unavailable";
  for (const [name, value] of Object.entries(outcome.headers)) c.header(name, value);
  return "checked";
}

/** Per client IP (IPv6: per /64), for unauthenticated routes that create accounts or check credentials. */
export const rateLimitByIp: MiddlewareHandler<AppEnv> = async (c, next) => {
  await enforceRateLimit(c, {
    policy: "ip",
    key: `ip:${clientAddressKey(clientIp(c))}`,
    limit: c.var.config.rateLimits.ipPerMinute,
    failMode: "closed",
  });
  await next();
};
