/** Small zod building blocks shared by several resources. */
import { z } from "@hono/zod-openapi";

/** A human-facing name: any text (quotes, markup, emoji…), stored and returned byte for byte. */
export const Name = z.string().min(1).max(200);

/** RFC 3339 timestamp input (`2026-11-28T16:00:00Z`, offsets allowed). */
export const Timestamp = z.iso.datetime({ offset: true });

/** A path parameter holding an id with the given prefix. */
export function idParam(name: string, prefix: string) {
  return z.string().min(1).max(64).openapi({ param: { name, in: "path" }, example: `${prefix}_3kT9xYz` });
}
