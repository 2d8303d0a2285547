/**
 * Turning a submitted form into a service call's input, with errors keyed by field so each page
 * can show them beside the field that caused them.
 */
import type { ZodType } from "zod";
import { toIso } from "../lib/clock";
import { ApiError } from "../lib/errors";
import type { FieldErrors } from "./ui";

export type Parsed<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors };

/** Validates `input` with the API's own schema, so the dashboard accepts exactly what the API does. */
export function parseWith<T>(schema: ZodType<T>, input: unknown): Parsed<T> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, data: result.data };
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const key = String(issue.path[0] ?? "_form");
    errors[key] ??= issue.message;
  }
  return { ok: false, errors };
}

/**
 * The errors a user can fix on the form they sent (validation, conflicts, limits, bad
 * credentials), keyed by field; null for everything else, which the error page answers.
 */
export function formErrors(error: unknown, field = "_form"): FieldErrors | null {
  if (!(error instanceof ApiError)) return null;
  if (!["validation_failed", "conflict", "quota_exceeded", "unauthenticated", "rate_limited"].includes(error.code)) return null;
  const errors: FieldErrors = {};
  for (const d of error.details ?? []) errors[d.path.split(".")[0] || field] ??= d.message;
  if (Object.keys(errors).length === 0) errors[field] = error.message;
  return errors;
}

/** A relative, same-site path to continue to after signing in; anything else becomes `/`. */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  return next;
}

/** Optional text: empty means absent. */
export function optional(value: string | null): string | undefined {
  return value === null || value === "" ? undefined : value;
}

/** `datetime-local` has no zone; the forms say UTC, so it is read as UTC. */
export function utcFromLocalInput(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const withSeconds = /T\d{2}:\d{2}$/.test(value) ? `${value}:00` : value;
  const ms = Date.parse(`${withSeconds}Z`);
  return Number.isNaN(ms) ? value : toIso(ms);
}

/**
 * A name as a person can type it into a text input: browsers strip line breaks from an
 * `<input type=text>` value, so a name holding one (allowed: names are any text) is compared
 * without them, on the page (`data-confirm-text`) and on the server alike.
 */
export function typeable(name: string): string {
  return name.replace(/[\r\n]/g, "");
}

/** Whether a typed confirmation names `name` (see `typeable`). */
export function confirmsName(typed: string | null, name: string): boolean {
  return typed !== null && typeable(typed) === typeable(name);
}
