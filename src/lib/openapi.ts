/**
 * Route definitions use @hono/zod-openapi so the OpenAPI document is generated from the very
 * schemas that validate requests. The building blocks of every route: the validation hook every
 * router shares (`src/router.ts`), the error envelope and standard responses, list pagination.
 */
import { z } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import { ApiError, ERROR_STATUS, type ErrorCode } from "./errors";

/** Whether `input` lacks the value at `path` (zod reports a missing field as a type mismatch). */
function isMissing(input: unknown, path: PropertyKey[], message: string): boolean {
  if (input === undefined) return /received undefined$/.test(message);
  let value: unknown = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return false;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value === undefined;
}

/**
 * A failed zod parse as the contract's `validation_failed`, in words for people: a missing field
 * "is required" rather than zod's "Invalid input: expected string, received undefined". Pass the
 * parsed `input` when there is one, so "missing" is read from the data, not guessed from the text.
 */
export function zodIssuesToError(error: ZodError, prefix?: string, input?: unknown): ApiError {
  const details = error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== undefined && p !== "").join(".");
    const missing = issue.code === "invalid_type" && issue.path.length > 0 && isMissing(input, issue.path, issue.message);
    return { path: path || "(root)", message: missing ? "is required" : issue.message };
  });
  const first = details[0];
  const summary = !first ? "Invalid request." : first.message === "is required" ? `Invalid request: ${first.path} is required.` : `Invalid request: ${first.path}: ${first.message}`;
  return new ApiError("validation_failed", summary, { details });
}

/**
 * The `defaultHook` of every router (`src/router.ts`): a request that fails its zod schema becomes
 * the contract's `validation_failed` envelope.
 */
export function validationHook(result: { success: boolean; error?: unknown; target?: string; data?: unknown }): void {
  if (!result.success) {
    // `target` is json | query | param | header; keep the body paths bare, as the contract shows.
    const target = result.target;
    throw zodIssuesToError(result.error as ZodError, target && target !== "json" ? target : undefined, result.data ?? {});
  }
}

/** The contract's error envelope, for OpenAPI responses. */
const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]).openapi({ description: "The closed set of error codes; each maps to one HTTP status." }),
      message: z.string().openapi({ description: "A sentence for people; never parse it." }),
      request_id: z.string().openapi({ description: "Equals the response's X-Request-Id." }),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi("Error");

const errorContent = { "application/json": { schema: ErrorSchema } };

/** The standard error responses every authenticated route may return. */
export const errorResponses = {
  400: { description: "Validation failed or malformed JSON", content: errorContent },
  401: { description: "Missing or invalid credentials", content: errorContent },
  403: { description: "Not allowed for your role or key scopes", content: errorContent },
  404: { description: "Not found (including other tenants' resources)", content: errorContent },
  429: { description: "Rate limited", content: errorContent },
} as const;

/** 409 `conflict`: the state of the resource forbids the change (the description says which state). */
export function conflictResponse(description: string) {
  return { 409: { description, content: errorContent } } as const;
}

/** 402 `quota_exceeded`: the organization's hard-cap plan has used up a meter this request consumes. */
export const quotaResponse = {
  402: { description: "The organization's plan quota for this month is used up", content: errorContent },
} as const;

/** 502 `upstream_error`: LiveKit failed, so nothing was changed or recorded. */
export const upstreamResponse = {
  502: { description: "LiveKit failed, timed out or answered nonsense; nothing was recorded", content: errorContent },
} as const;

export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** A required JSON request body. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { "application/json": { schema } } };
}

/** `?limit=&cursor=` shared by every list endpoint. */
export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: "1..100, default 20" }),
  // 1,024: the longest a list's cursor gets, base64url of a 256-unit identity in UTF-8 (768 bytes).
  cursor: z.string().min(1).max(1024).optional(),
});

export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), next_cursor: z.string().nullable() });
}

export const bearerSecurity = [{ bearerAuth: [] }];
