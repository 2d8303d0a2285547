/** Small zod building blocks shared by several resources. */
import { z } from "@hono/zod-openapi";

/** A human-facing name: any text (quotes, markup, emoji…), stored and returned byte for byte. */
export const Name = z.string().min(1).max(200);

/** The first instant RFC 3339 cannot write (its year has four digits). */
const YEAR_10000 = Date.UTC(10000, 0, 1);

/**
 * RFC 3339 timestamp input (`2026-11-28T16:00:00Z`, offsets allowed). An offset can carry a time
 * written as 9999-12-31 past the year 9999 in UTC, which Pulse could then only answer as
 * `+010000-…`: refused.
 */
export const Timestamp = z.iso.datetime({ offset: true }).refine((s) => Date.parse(s) < YEAR_10000, { error: "must be before the year 10000 (UTC)" });

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
