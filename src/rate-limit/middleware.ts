/**
 * Applying the rate limiter to routes. Limits come from config (and per project from
 * `projects.rate_limit_per_min`); each response carries the IETF draft `RateLimit-Policy` and
 * `RateLimit` headers, and a 429 adds `Retry-After`.
 *
 * When the limiter itself is unreachable we must not take the API down silently:
 * - API-key routes fail OPEN: a tenant's production traffic matters more than exact limits for
 *   the minutes the limiter is down; every such request logs `rate_limiter_unavailable`.
 * - Unauthenticated routes (signup, login, invitation accept) fail CLOSED with 503: without a
 *   limiter they are open to credential stuffing.
 * - The inbound LiveKit webhook counts only requests whose signature fails (LiveKit's own traffic
 *   from one address easily exceeds a per-IP budget) and fails OPEN: refusing it would lose events
 *   LiveKit may not retry, and a bad signature is refused anyway.
 * A limiter that does not answer within LIMITER_TIMEOUT_MS counts as unavailable.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { ApiError, unauthenticated } from "../lib/errors";
import { clientIp } from "../middleware/request-context";
import { clientAddressKey } from "./client-key";
import type { RateLimitDecision } from "./rate-limiter-do";

export const WINDOW_MS = 60_000;
/**
 * A limiter that does not answer within this long counts as unavailable: a hung Durable Object
 * must not hang the API. A healthy check takes milliseconds.
 */
export const LIMITER_TIMEOUT_MS = 2_000;

export type FailMode = "open" | "closed";

export async function checkRateLimit(c: Context<AppEnv>, key: string, limit: number, credential?: string): Promise<RateLimitDecision> {
  const stub = c.env.RATE_LIMITER.get(c.env.RATE_LIMITER.idFromName(key));
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${LIMITER_TIMEOUT_MS} ms`)), LIMITER_TIMEOUT_MS);
  });
  try {
    return await Promise.race([stub.hit(limit, WINDOW_MS, credential), timeout]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

/** The IETF draft headers (draft-ietf-httpapi-ratelimit-headers): quota, window, remaining, reset. */
export function rateLimitHeaders(policy: string, decision: RateLimitDecision): Record<string, string> {
  return {
    "RateLimit-Policy": `"${policy}";q=${decision.limit};w=${WINDOW_MS / 1000}`,
    RateLimit: `"${policy}";r=${decision.remaining};t=${Math.ceil(decision.resetMs / 1000)}`,
  };
}

/**
 * Counts this request against `key` and throws 429 when over `limit` (401 when `credential` was
 * revoked). The headers are set on the context, so every response of a limited route carries them,
 * errors included. Returns "unavailable" when the limiter could not be asked and `failMode` is open.
 */
export async function enforceRateLimit(
  c: Context<AppEnv>,
  opts: { policy: string; key: string; limit: number; failMode: FailMode; credential?: string },
): Promise<"checked" | "unavailable"> {
  let decision: RateLimitDecision;
  try {
    decision = await checkRateLimit(c, opts.key, opts.limit, opts.credential);
  } catch (error) {
    c.var.logger.error("rate_limiter_unavailable", {
      policy: opts.policy,
      fail_mode: opts.failMode,
      error_message: error instanceof Error ? error.message : String(error),
    });
    if (opts.failMode === "open") return "unavailable";
    throw new ApiError("service_unavailable", "Rate limiting is temporarily unavailable; try again shortly.", {
      headers: { "Retry-After": "5" },
    });
  }
  if (decision.revoked) throw unauthenticated("The API key is invalid, revoked or expired.");
  const headers = rateLimitHeaders(opts.policy, decision);
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  if (!decision.allowed) {
    const retryAfter = String(Math.ceil(decision.resetMs / 1000));
    throw new ApiError("rate_limited", `Rate limit of ${decision.limit} requests per minute exceeded; retry in ${retryAfter} s.`, {
      headers: { ...headers, "Retry-After": retryAfter },
    });
  }
  return "checked";
}

/** The Durable Object holding a project's limit (and its keys' revocations). */
export function projectLimiter(env: Pick<AppEnv["Bindings"], "RATE_LIMITER">, projectId: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`project:${projectId}`));
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
