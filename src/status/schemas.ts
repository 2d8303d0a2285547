import { z } from "@hono/zod-openapi";

export const HealthResponse = z.object({ status: z.literal("ok") });

export const ComponentSchema = z.object({ status: z.enum(["ok", "down"]), latency_ms: z.number(), error: z.string().optional() });
export type Component = z.infer<typeof ComponentSchema>;

export const StatusResponse = z
  .object({ status: z.enum(["ok", "degraded"]), components: z.object({ database: ComponentSchema, rate_limiter: ComponentSchema }) })
  .openapi("Status");
