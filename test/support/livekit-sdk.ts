/**
 * Pointing LiveKit's own server SDK at the Worker under test: `http://pulse.test` is answered by
 * the Worker's `fetch` (the SDK calls `globalThis.fetch`, which runs in this isolate); any other
 * host goes to whatever `fetch` was installed before (the fake LiveKit, for the Worker's calls).
 */
import { TwirpError } from "livekit-server-sdk";
import { afterEach, beforeEach } from "vitest";
import { dispatch } from "./api";

export const PULSE_HOST = "http://pulse.test";

/** Installs the route before each test of the calling file (after `useFakeLivekit()`), removes it after. */
export function usePulseHost(): void {
  let previous: typeof fetch | null = null;
  beforeEach(() => {
    previous = globalThis.fetch;
    const next = previous;
    globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith(`${PULSE_HOST}/`)) return next(input, init);
      return dispatch(new Request(input, init));
    }) as typeof fetch;
  });
  afterEach(() => {
    if (previous) globalThis.fetch = previous;
    previous = null;
  });
}

/** A raw Twirp call (for encodings and malformed requests the SDK never sends). */
export function twirp(rpc: string, init: { body?: BodyInit; contentType?: string; token?: string; method?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.contentType) headers["Content-Type"] = init.contentType;
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  return dispatch(new Request(`${PULSE_HOST}/twirp/${rpc}`, { method: init.method ?? "POST", headers, body: init.body }));
}

/** The TwirpError an SDK call fails with (the test fails if it succeeds or fails otherwise). */
export async function twirpFailure(promise: Promise<unknown>): Promise<TwirpError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof TwirpError)) throw new Error(`expected a TwirpError, got ${String(error)}`);
  return error;
}
