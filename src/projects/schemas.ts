import { z } from "@hono/zod-openapi";
import type { projects } from "../db/schema";
import { toIso } from "../lib/clock";
import { Name } from "../lib/schemas";

export const ProjectSchema = z
  .object({
    id: z.string(),
    org_id: z.string(),
    name: z.string(),
    rate_limit_per_min: z.number().int().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Project");

export function serializeProject(p: typeof projects.$inferSelect) {
  return {
    id: p.id,
    org_id: p.orgId,
    name: p.name,
    rate_limit_per_min: p.rateLimitPerMin,
    created_at: toIso(p.createdAt),
    updated_at: toIso(p.updatedAt),
  };
}

export const CreateProjectBody = z.strictObject({ name: Name }).openapi("CreateProject");
export const UpdateProjectBody = z.strictObject({ name: Name }).openapi("UpdateProject");
