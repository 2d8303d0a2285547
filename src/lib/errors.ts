import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * The closed set of error codes in the public contract, each bound to exactly one HTTP status.
 * Every failure leaves Pulse through `ApiError` and `errorBody()`; no route builds its own error JSON.
 */
export const ERROR_STATUS = {
  validation_failed: 400,
  invalid_json: 400,
  unauthenticated: 401,
  quota_exceeded: 402,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  upstream_error: 502,
  service_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  readonly details?: ErrorDetail[];
  readonly headers?: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: ErrorDetail[]; headers?: Record<string, string>; status?: ContentfulStatusCode } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = options.status ?? ERROR_STATUS[code];
    this.details = options.details;
    this.headers = options.headers;
  }
}

/** Shorthands for the errors routes raise most; they keep messages consistent. */
export const notFound = (what: string) => new ApiError("not_found", `${what} not found.`);
export const forbidden = (message = "Your role does not allow this action.") => new ApiError("forbidden", message);
export const conflict = (message: string) => new ApiError("conflict", message);
export const unauthenticated = (message = "Missing or invalid credentials.") =>
  new ApiError("unauthenticated", message);
export const validationFailed = (message: string, details?: ErrorDetail[]) =>
  new ApiError("validation_failed", message, { details });

/** The contract's error envelope. `details` only appears for validation failures. */
export function errorBody(error: ApiError, requestId: string) {
  return {
    error: {
      code: error.code,
      message: error.message,
      request_id: requestId,
      ...(error.details ? { details: error.details } : {}),
    },
  };
}
