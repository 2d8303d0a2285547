/**
 * Runs async work over a list with bounded concurrency: at most `limit` at once in all, and at
 * most `perKey` at once for any one key, taking the items in order otherwise. Results come back in
 * the items' order. Work that throws rejects the whole run (callers catch inside `work`).
 *
 * Why: a Worker invocation may hold only six connections waiting for response headers; past that
 * its fetches queue inside the runtime, and a request's own timeout (started when `fetch` is
 * called) runs down while it waits. Bounding here starts each request only when it can be sent,
 * and the per-key bound keeps one slow receiver from taking every connection.
 */
export async function runPooled<T, R>(
  items: readonly T[],
  opts: { limit: number; perKey?: number; key?: (item: T) => string },
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  const waiting = items.map((_, i) => i);
  const inFlight = new Map<string, number>();
  const keyOf = (i: number) => (opts.key ? opts.key(items[i]!) : "");
  const perKey = opts.perKey ?? opts.limit;
  let running = 0;

  return new Promise<R[]>((resolve, reject) => {
    let failed = false;
    const startNext = () => {
      if (failed) return;
      if (waiting.length === 0 && running === 0) return resolve(results);
      for (let w = 0; w < waiting.length && running < opts.limit; ) {
        const i = waiting[w]!;
        const key = keyOf(i);
        if ((inFlight.get(key) ?? 0) >= perKey) {
          w++;
          continue;
        }
        waiting.splice(w, 1);
        running++;
        inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
        work(items[i]!).then(
          (result) => {
            results[i] = result;
            running--;
            inFlight.set(key, inFlight.get(key)! - 1);
            startNext();
          },
          (error: unknown) => {
            failed = true;
            reject(error);
          },
        );
      }
    };
    startNext();
  });
}
