/**
 * The rate limiter as services see it: a small interface over the Durable Object (one object per
 * limit key), so account and mail code can count, give back and clear hits without a Hono context.
 * A limiter that does not answer within LIMITER_TIMEOUT_MS counts as unavailable (the promise
 * rejects): a hung Durable Object must not hang the API. A healthy check takes milliseconds.
 */
import type { Bindings } from "../env";
import type { RateLimitDecision } from "./rate-limiter-do";

export const LIMITER_TIMEOUT_MS = 2_000;

export interface Limiter {
  /** Counts one hit against `key` if fewer than `limit` fall in the last `windowMs`. */
  hit(key: string, limit: number, windowMs: number, credential?: string): Promise<RateLimitDecision>;
  /** Takes back the hit counted at `at` (a decision's `at`). */
  release(key: string, at: number): Promise<void>;
  /** Forgets every hit of `key`. */
  clear(key: string): Promise<void>;
}

async function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${LIMITER_TIMEOUT_MS} ms`)), LIMITER_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

export function durableLimiter(namespace: Bindings["RATE_LIMITER"]): Limiter {
  const stub = (key: string) => namespace.get(namespace.idFromName(key));
  return {
    hit: (key, limit, windowMs, credential) => withTimeout(stub(key).hit(limit, windowMs, credential)),
    release: (key, at) => withTimeout(stub(key).release(at)),
    clear: (key) => withTimeout(stub(key).clear()),
  };
}
