/**
 * Bounding waits on things across the network (LiveKit, tenants' webhook receivers, Durable
 * Objects): a hung peer must never hang a request. `withTimeout` bounds any promise;
 * `AbortSignal.timeout()` bounds a `fetch`, body included. Both fail with an error that
 * `isTimeoutError` recognises, so callers tell "too slow" from "unreachable" the same way.
 */

/**
 * Rejects with a `TimeoutError` ("no answer within N ms") if `promise` has not settled in `ms`.
 * Plain callbacks rather than `async`/`Promise.race`: every API-key request passes through here.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new Error(`no answer within ${ms} ms`);
      error.name = "TimeoutError";
      reject(error);
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** A timeout from `withTimeout` or an aborted `fetch` (`AbortSignal.timeout()`). */
export function isTimeoutError(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}
