/**
 * A small client for LiveKit's Twirp API (`POST {apiUrl}/twirp/livekit.<Service>/<Method>`, JSON).
 *
 * Each call carries a fresh service token with only the grant its service needs (`roomRecord` for
 * Egress, `ingressAdmin` for Ingress) and a short expiry: both grants reach every tenant on the
 * shared deployment, so they never leave Pulse and never live long. Requests are LiveKit's
 * camelCase JSON; answers are snake_case with defaults and are validated before use.
 *
 * Every failure becomes an `ApiError`, never a hang or a 500: no answer within the timeout, a
 * network error, a 5xx, a Twirp error or a malformed answer are `upstream_error` (502), except the
 * Twirp codes that mean the tenant's request itself was wrong, which keep their 4xx meaning.
 */
import type { z } from "zod";
import { ApiError, type ErrorCode } from "../lib/errors";
import type { Logger } from "../lib/logger";
import { isTimeoutError } from "../lib/timeout";
import { signLivekitJwt, type LivekitKeyPair, type VideoGrant } from "./jwt";

/** Where LiveKit's Twirp API answers (`http(s)://host`, no trailing slash) and the key pair it trusts. */
export interface LivekitApi extends LivekitKeyPair {
  apiUrl: string;
}

export type TwirpService = "Egress" | "Ingress";

/** The one grant each service needs, and nothing more. */
const SERVICE_GRANT: Record<TwirpService, VideoGrant> = {
  Egress: { roomRecord: true },
  Ingress: { ingressAdmin: true },
};

/** Service tokens live 10 minutes, as LiveKit's own SDKs sign them. */
const SERVICE_TOKEN_TTL_SECONDS = 600;

const DEFAULT_TIMEOUT_MS = 10_000;
let timeoutMs = DEFAULT_TIMEOUT_MS;

/** Test hook: shorten the per-call timeout (a hung LiveKit is tested without waiting 10 s); null restores it. */
export function setTwirpTimeoutMs(ms: number | null): void {
  timeoutMs = ms ?? DEFAULT_TIMEOUT_MS;
}

/**
 * Twirp codes that mean "your request was wrong", mapped to the contract's code. Anything else
 * (internal, unavailable, unauthenticated — our credentials, not the tenant's — …) is LiveKit's
 * or Pulse's problem and surfaces as `upstream_error`.
 */
const CLIENT_ERROR_CODES: Record<string, ErrorCode> = {
  invalid_argument: "validation_failed",
  malformed: "validation_failed",
  out_of_range: "validation_failed",
  not_found: "not_found",
  already_exists: "conflict",
  failed_precondition: "conflict",
};

/** A LiveKit answer that reached us: the Twirp error code (if any) is kept for callers that care. */
export class TwirpError extends ApiError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly twirpCode: string | null,
  ) {
    super(code, message);
  }
}

export interface TwirpCallOptions {
  logger?: Logger;
}

/** Calls `livekit.<service>/<method>` with `body` and returns the answer validated by `schema`. */
export async function twirpCall<S extends z.ZodType>(
  livekit: LivekitApi,
  service: TwirpService,
  method: string,
  body: Record<string, unknown>,
  schema: S,
  options: TwirpCallOptions = {},
): Promise<z.output<S>> {
  const rpc = `livekit.${service}/${method}`;
  const log = (reason: string, fields: Record<string, unknown> = {}) =>
    options.logger?.warn("livekit_twirp_failed", { rpc, reason, ...fields });
  const { token } = await signLivekitJwt(livekit, { video: SERVICE_GRANT[service] }, SERVICE_TOKEN_TTL_SECONDS);

  let response: Response;
  let text: string;
  try {
    // One signal bounds the whole exchange, body included: a server that sends headers and then
    // stalls is as hung as one that never answers.
    const signal = AbortSignal.timeout(timeoutMs);
    response = await fetch(`${livekit.apiUrl}/twirp/${rpc}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal,
    });
    text = await response.text();
  } catch (error) {
    const timedOut = isTimeoutError(error);
    log(timedOut ? "timeout" : "network", { error_message: error instanceof Error ? error.message : String(error) });
    throw new TwirpError(
      "upstream_error",
      timedOut ? "LiveKit did not answer in time. Nothing was changed; try again." : "LiveKit could not be reached. Try again.",
      null,
    );
  }

  let json: unknown;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    json = undefined;
  }

  if (!response.ok) {
    const twirp = json && typeof json === "object" ? (json as { code?: unknown; msg?: unknown }) : {};
    const twirpCode = typeof twirp.code === "string" ? twirp.code : null;
    const msg = typeof twirp.msg === "string" ? twirp.msg.slice(0, 300) : "";
    log("error_status", { status: response.status, twirp_code: twirpCode });
    const mapped = twirpCode ? CLIENT_ERROR_CODES[twirpCode] : undefined;
    if (mapped && response.status < 500) {
      throw new TwirpError(mapped, msg ? `LiveKit refused the request: ${msg}` : "LiveKit refused the request.", twirpCode);
    }
    throw new TwirpError("upstream_error", `LiveKit failed to handle the request (${twirpCode ?? `HTTP ${response.status}`}).`, twirpCode);
  }

  const parsed = json === undefined ? null : schema.safeParse(json);
  if (!parsed || !parsed.success) {
    log("malformed_answer", { status: response.status });
    throw new TwirpError("upstream_error", "LiveKit sent an answer Pulse could not understand.", null);
  }
  return parsed.data;
}
