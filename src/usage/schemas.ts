/** The usage API's shapes: the query and the series, one number per meter of `METERS`. */
import { z } from "@hono/zod-openapi";
import { Timestamp } from "../lib/schemas";
import { perMeter } from "./meters";

export const UsageQuery = z.object({
  since: Timestamp.optional().openapi({ description: "Start (RFC 3339); default: start of the current UTC month. Rounded down to the bucket." }),
  until: Timestamp.optional().openapi({ description: "End, exclusive; default: start of next UTC month. Rounded up to the bucket." }),
  granularity: z.enum(["hour", "day"]).default("day"),
});

const Meters = perMeter(() => z.number());

export const UsageSchema = z
  .object({
    since: z.string(),
    until: z.string(),
    granularity: z.enum(["hour", "day"]),
    totals: z.object(Meters),
    series: z.array(z.object({ start: z.string(), ...Meters })),
  })
  .openapi("Usage");
