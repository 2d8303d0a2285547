/**
 * Limits with their own window, over the same limiter objects as `service.ts` (which counts per
 * minute): the per-account login limit and the per-address mail throttle count in 15-minute
 * windows, and the login limit gives back the slot of an attempt that succeeded. Each call
 * rejects when the object does not answer within LIMITER_TIMEOUT_MS; callers choose how to fail.
 */
import { withTimeout } from "../lib/timeout";
import type { RateLimitDecision } from "./rate-limiter-do";
import { LIMITER_TIMEOUT_MS, limiterStub, type RateLimiterNamespace } from "./service";

/** Counts one hit against `key` if fewer than `limit` fall in the last `windowMs`. */
export function hitWindow(limiter: RateLimiterNamespace, key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
  return withTimeout(limiterStub(limiter, key).hit(limit, windowMs), LIMITER_TIMEOUT_MS);
}

/** Takes back the hit counted at `at` (an admitted decision's `at`). */
export function releaseHit(limiter: RateLimiterNamespace, key: string, at: number): Promise<void> {
  return withTimeout(limiterStub(limiter, key).release(at), LIMITER_TIMEOUT_MS);
}

/** Forgets every hit of `key`. */
export function clearHits(limiter: RateLimiterNamespace, key: string): Promise<void> {
  return withTimeout(limiterStub(limiter, key).clear(), LIMITER_TIMEOUT_MS);
}
