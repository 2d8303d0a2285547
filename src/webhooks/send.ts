/**
 * One HTTP attempt at a tenant's endpoint: bounded in time (a receiver that hangs must not hold the
 * consumer), redirects not followed (a 3xx could point anywhere, including private networks),
 * and only the first 2 KiB of the answer kept for the delivery log.
 */
import { readBounded } from "../lib/body";
import { isTimeoutError } from "../lib/timeout";

export const DELIVERY_TIMEOUT_MS = 15_000;
export const RESPONSE_BODY_LIMIT = 2048;

export interface AttemptOutcome {
  statusCode: number | null;
  durationMs: number;
  responseBody: string | null;
  error: string | null;
}

/** The first `limit` characters of the answer, for the delivery log. */
async function readPrefix(response: Response, limit: number): Promise<string> {
  const { bytes } = await readBounded(response.body, limit);
  // Decode then cut by characters: a multi-byte character split at the limit becomes U+FFFD, never an exception.
  return new TextDecoder().decode(bytes).slice(0, limit);
}

export async function postWebhook(url: string, headers: Record<string, string>, body: string): Promise<AttemptOutcome> {
  const started = Date.now();
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "User-Agent": "Pulse-Webhooks/1.0", ...headers },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    const responseBody = await readPrefix(response, RESPONSE_BODY_LIMIT).catch(() => null);
    return { statusCode: response.status, durationMs: Date.now() - started, responseBody, error: null };
  } catch (error) {
    const timedOut = isTimeoutError(error);
    return {
      statusCode: null,
      durationMs: Date.now() - started,
      responseBody: null,
      error: timedOut ? `Timed out after ${DELIVERY_TIMEOUT_MS / 1000} s` : `Network error: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500),
    };
  }
}
