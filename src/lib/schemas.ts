/** Small zod building blocks shared by several resources. */
import { z } from "@hono/zod-openapi";
import { RFC3339_END_MS, RFC3339_FIRST_MS } from "./clock";

/** A human-facing name: any text (quotes, markup, emoji…), stored and returned byte for byte. */
export const Name = z.string().min(1).max(200);

/**
 * RFC 3339 timestamp input (`2026-11-28T16:00:00Z`, offsets allowed). An offset can carry a time
 * written in 9999 past the year in UTC, or one written in 0000 before it, which Pulse could then
 * only answer as `+010000-…` or `-000001-…`: refused.
 */
export const Timestamp = z.iso
  .datetime({ offset: true })
  .refine((s) => Date.parse(s) < RFC3339_END_MS, { error: "must be before the year 10000 (UTC)" })
  .refine((s) => Date.parse(s) >= RFC3339_FIRST_MS, { error: "must not be before the year 0000 (UTC)" });

/** A path parameter holding an id with the given prefix. */
export function idParam(name: string, prefix: string) {
  return z.string().min(1).max(64).openapi({ param: { name, in: "path" }, example: `${prefix}_3kT9xYz` });
}

/**
 * Participant attributes (string → string). LiveKit reserves keys starting `lk.` for its own state
 * (`lk.agent.state`, `lk.transcription…`, `lk.publish_on_behalf`): a tenant setting them could pass
 * a participant off as an agent or as publishing on someone's behalf, so they are refused, naming
 * the key (`attributes.lk.agent.state`).
 */
export function attributeMap(key: z.ZodString, value: z.ZodString) {
  return z.record(key, value).superRefine((attributes, ctx) => {
    for (const k of Object.keys(attributes)) {
      if (k.startsWith("lk.")) ctx.addIssue({ code: "custom", path: [k], message: "Attribute keys starting with 'lk.' are reserved by LiveKit" });
    }
  });
}
