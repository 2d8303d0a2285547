/**
 * Reading LiveKit's JSON. LiveKit writes protojson: int64 as decimal strings (numbers tolerated),
 * default values omitted, and field names in lowerCamelCase (its webhooks) or snake_case (its
 * Twirp answers, and other senders protojson allows). These readers accept both spellings.
 */
import { z } from "zod";

/** protojson int64: a decimal string (numbers tolerated). */
export const Int64 = z.union([z.string().regex(/^-?\d+$/), z.number().int()]);

function snakeCase(camel: string): string {
  return camel.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** `obj.fooBar`, else `obj.foo_bar`: a field of LiveKit JSON in either spelling (camelCase name given). */
export function protoField(obj: Record<string, unknown> | undefined, camel: string): unknown {
  if (!obj) return undefined;
  return obj[camel] ?? obj[snakeCase(camel)];
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/** The field as a non-empty string in either spelling; null when absent, empty (protojson's default) or not a string. */
export function protoString(obj: Record<string, unknown> | undefined, camel: string): string | null {
  if (!obj) return null;
  return nonEmptyString(obj[camel]) ?? nonEmptyString(obj[snakeCase(camel)]);
}

/** A JSON object (a protojson message), not an array or a scalar. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
