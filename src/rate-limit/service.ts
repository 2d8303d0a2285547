/**
 * Asking the rate limiter: one hit against a limit key, with the failure rules below. Plain
 * functions over the Durable Object namespace and a logger, so any caller (the HTTP middleware in
 * `src/middleware/rate-limit.ts`, a Twirp or dashboard route) applies the same limits.
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
import { ApiError, unauthenticated } from "../lib/errors";
import type { Logger } from "../lib/logger";
import { withTimeout } from "../lib/timeout";
import type { RateLimitDecision, RateLimiter } from "./rate-limiter-do";

export const WINDOW_MS = 60_000;
/**
 * A limiter that does not answer within this long counts as unavailable: a hung Durable Object
 * must not hang the API. A healthy check takes milliseconds.
 */
export const LIMITER_TIMEOUT_MS = 2_000;

export type FailMode = "open" | "closed";

/** The `RATE_LIMITER` binding: one object per limit key. */
export type RateLimiterNamespace = DurableObjectNamespace<RateLimiter>;

export interface RateLimitDeps {
  limiter: RateLimiterNamespace;
  logger: Logger;
}

export interface RateLimitCheck {
  /** Names the limit in the headers and the log (`ip`, `project`, …). */
  policy: string;
  key: string;
  limit: number;
  failMode: FailMode;
  /** An API key's hash: the object answers whether it was revoked. */
  credential?: string;
}

/** Object ids by limit key, per namespace: `idFromName` hashes the name on every call. */
const ids = new WeakMap<RateLimiterNamespace, Map<string, DurableObjectId>>();
/** Ids are small; past this many keys (IPs, projects) the map starts over rather than grow without bound. */
const MAX_CACHED_IDS = 10_000;

/**
 * The limiter object for `key`. The id is a value and is kept per isolate; the stub is made per
 * call, since a stub belongs to the request that made it.
 */
export function limiterStub(limiter: RateLimiterNamespace, key: string) {
  let byKey = ids.get(limiter);
  if (!byKey) ids.set(limiter, (byKey = new Map()));
  let id = byKey.get(key);
  if (!id) {
    if (byKey.size >= MAX_CACHED_IDS) byKey.clear();
    id = limiter.idFromName(key);
    byKey.set(key, id);
  }
  return limiter.get(id);
}

/** Counts one hit against `key`; rejects when the object does not answer within LIMITER_TIMEOUT_MS. */
function hitLimiter(limiter: RateLimiterNamespace, key: string, limit: number, credential?: string): Promise<RateLimitDecision> {
  return withTimeout(limiterStub(limiter, key).hit(limit, WINDOW_MS, credential), LIMITER_TIMEOUT_MS);
}

/** The IETF draft headers (draft-ietf-httpapi-ratelimit-headers): quota, window, remaining, reset. */
function rateLimitHeaders(policy: string, decision: RateLimitDecision): Record<string, string> {
  return {
    "RateLimit-Policy": `"${policy}";q=${decision.limit};w=${WINDOW_MS / 1000}`,
    RateLimit: `"${policy}";r=${decision.remaining};t=${Math.ceil(decision.resetMs / 1000)}`,
  };
}

type RateLimitOutcome = { status: "checked"; headers: Record<string, string> } | { status: "unavailable" };

/**
 * Counts this request and throws 429 (with the headers and `Retry-After`) when over the limit, 401
 * when `credential` was revoked, 503 when the limiter is down and `failMode` is closed. Otherwise
 * returns the headers every response of the limited request carries, or "unavailable" (fail open).
 */
export async function applyRateLimit(deps: RateLimitDeps, check: RateLimitCheck): Promise<RateLimitOutcome> {
  let decision: RateLimitDecision;
  try {
    decision = await hitLimiter(deps.limiter, check.key, check.limit, check.credential);
  } catch (error) {
    deps.logger.error("rate_limiter_unavailable", {
      policy: check.policy,
      fail_mode: check.failMode,
      error_message: error instanceof Error ? error.message : String(error),
    });
    if (check.failMode === "open") return { status: "unavailable" };
    throw new ApiError("service_unavailable", "Rate limiting is temporarily unavailable; try again shortly.", {
      headers: { "Retry-After": "5" },
    });
  }
  if (decision.revoked) throw unauthenticated("The API key is invalid, revoked or expired.");
  const headers = rateLimitHeaders(check.policy, decision);
  if (!decision.allowed) {
    const retryAfter = String(Math.ceil(decision.resetMs / 1000));
    throw new ApiError("rate_limited", `Rate limit of ${decision.limit} requests per minute exceeded; retry in ${retryAfter} s.`, {
      headers: { ...headers, "Retry-After": retryAfter },
    });
  }
  return { status: "checked", headers };
}

/** The Durable Object holding a project's limit (and its keys' revocations). */
export function projectLimiter(env: { RATE_LIMITER: RateLimiterNamespace }, projectId: string) {
  return limiterStub(env.RATE_LIMITER, `project:${projectId}`);
}
