/**
 * Bounding waits on things across the network (LiveKit, tenants' webhook receivers, Durable
 * Objects): a hung peer must never hang a request. `withTimeout` bounds any promise;
 * `AbortSignal.timeout()` bounds a `fetch`, body included. Both fail with an error that
 * `isTimeoutError` recognises, so callers tell "too slow" from "unreachable" the same way.
 */

/** Rejects with a `TimeoutError` ("no answer within N ms") if `promise` has not settled in `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`no answer within ${ms} ms`);
      error.name = "TimeoutError";
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

/** A timeout from `withTimeout` or an aborted `fetch` (`AbortSignal.timeout()`). */
export function isTimeoutError(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}
