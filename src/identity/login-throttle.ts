/**
 * Login throttling per account, on top of the per-IP limit: at most LOGIN_FAILURES_PER_ACCOUNT
 * failed attempts for one email per LOGIN_FAILURE_WINDOW_MS, whatever address they come from.
 * Counted in the rate-limiter Durable Object under a hash of the normalized email, for every
 * email, existing or not (so the throttle tells nothing about which accounts exist).
 *
 * Each attempt reserves a slot before the password is checked, so a burst of parallel guesses
 * cannot all get in; a successful attempt gives its slot back. When the limiter cannot be asked,
 * attempts are refused (503): without it, one account is open to unlimited guessing.
 */
import { ApiError } from "../lib/errors";
import { normalizeEmail } from "../lib/email";
import { sha256Hex } from "../lib/secrets";
import { clearHits, hitWindow, releaseHit } from "../rate-limit/limiter";
import type { RateLimiterNamespace } from "../rate-limit/service";

export const LOGIN_FAILURES_PER_ACCOUNT = 10;
export const LOGIN_FAILURE_WINDOW_MS = 15 * 60_000;

async function accountKey(email: string): Promise<string> {
  return `login:${await sha256Hex(normalizeEmail(email))}`;
}

export interface LoginAttempt {
  /** The attempt succeeded: it does not count as a failure. */
  succeeded(): Promise<void>;
}

export async function reserveLoginAttempt(limiter: RateLimiterNamespace, email: string): Promise<LoginAttempt> {
  const key = await accountKey(email);
  let decision;
  try {
    decision = await hitWindow(limiter, key, LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURE_WINDOW_MS);
  } catch {
    throw new ApiError("service_unavailable", "Sign-in is temporarily unavailable; try again shortly.", { headers: { "Retry-After": "5" } });
  }
  if (!decision.allowed) {
    const retryAfter = String(Math.ceil(decision.resetMs / 1000));
    const policy = `"account";q=${LOGIN_FAILURES_PER_ACCOUNT};w=${LOGIN_FAILURE_WINDOW_MS / 1000}`;
    throw new ApiError("rate_limited", `Too many failed sign-ins for this account; retry in ${retryAfter} s.`, {
      headers: { "Retry-After": retryAfter, "RateLimit-Policy": policy, RateLimit: `"account";r=0;t=${retryAfter}` },
    });
  }
  const at = decision.at;
  return {
    // Best effort: failing to give the slot back only makes the limit a little stricter.
    succeeded: async () => {
      if (at !== undefined) await releaseHit(limiter, key, at).catch(() => undefined);
    },
  };
}

/** After a password reset the owner is back in control: earlier failures no longer count. */
export async function clearLoginFailures(limiter: RateLimiterNamespace, email: string): Promise<void> {
  await clearHits(limiter, await accountKey(email)).catch(() => undefined);
}
