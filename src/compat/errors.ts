/**
 * Twirp's error format for the LiveKit-compatible API: `{code, msg, meta}` with Twirp's HTTP
 * statuses (https://twitchtv.github.io/twirp/docs/spec_v7.html#error-codes), which LiveKit's SDKs
 * turn into their `TwirpError`. Everything inside Pulse still throws the one `ApiError`; this
 * module maps it once, at the edge, the way `errorBody()` does for `/v1/*`.
 */
import type { Context } from "hono";
import { ApiError, type ErrorCode } from "../lib/errors";
import { TwirpError as UpstreamTwirpError } from "../livekit/twirp";

export const TWIRP_STATUS = {
  canceled: 408,
  unknown: 500,
  invalid_argument: 400,
  malformed: 400,
  deadline_exceeded: 408,
  not_found: 404,
  bad_route: 404,
  already_exists: 409,
  permission_denied: 403,
  unauthenticated: 401,
  resource_exhausted: 429,
  failed_precondition: 412,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
} as const;

export type TwirpCode = keyof typeof TWIRP_STATUS;

/** A failure already phrased in Twirp's terms (routing, decoding, grants). */
export class TwirpFailure extends Error {
  constructor(
    readonly code: TwirpCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "TwirpFailure";
  }
}

const CODE_FOR: Record<ErrorCode, TwirpCode> = {
  validation_failed: "invalid_argument",
  invalid_json: "malformed",
  unauthenticated: "unauthenticated",
  // Plan quotas and rate limits alike: the caller must slow down or wait.
  quota_exceeded: "resource_exhausted",
  forbidden: "permission_denied",
  not_found: "not_found",
  method_not_allowed: "bad_route",
  // What Pulse refuses as a conflict (an egress that already ended…) LiveKit calls a failed precondition.
  conflict: "failed_precondition",
  payload_too_large: "malformed",
  unsupported_media_type: "bad_route",
  rate_limited: "resource_exhausted",
  internal_error: "internal",
  upstream_error: "unavailable",
  service_unavailable: "unavailable",
};

/** LiveKit's own answers to a tenant's bad request keep LiveKit's code (`not_found`, `failed_precondition`…). */
const PASSED_THROUGH = new Set<string>(["invalid_argument", "malformed", "out_of_range", "not_found", "already_exists", "failed_precondition"]);

export function toTwirpFailure(error: ApiError): TwirpFailure {
  const headers = error.headers ?? {};
  if (error instanceof UpstreamTwirpError && error.twirpCode && PASSED_THROUGH.has(error.twirpCode) && error.status < 500) {
    return new TwirpFailure(error.twirpCode as TwirpCode, error.message, headers);
  }
  const details = error.details?.map((d) => `${d.path}: ${d.message}`).join("; ");
  const message = error.code === "validation_failed" && details ? `${error.message.replace(/\.$/, "")} (${details})` : error.message;
  return new TwirpFailure(CODE_FOR[error.code], message, headers);
}

/**
 * The failure as the request's answer, through the context so the headers set before it failed
 * (the project's `RateLimit-Policy`/`RateLimit`) stay on it, as on every limited answer.
 */
export function twirpErrorResponse(c: Context, failure: TwirpFailure, requestId: string): Response {
  // LiveKit's SDKs read the body only when the Content-Type is exactly application/json.
  return c.body(JSON.stringify({ code: failure.code, msg: failure.message, meta: { request_id: requestId } }), TWIRP_STATUS[failure.code], {
    ...failure.headers,
    "Content-Type": "application/json",
    "X-Request-Id": requestId,
  });
}

export const unimplemented = (rpc: string) => new TwirpFailure("unimplemented", `${rpc} is not available through Pulse.`);
export const permissionDenied = (message: string) => new TwirpFailure("permission_denied", message);
export const invalidArgument = (message: string) => new TwirpFailure("invalid_argument", message);
