import { z } from "@hono/zod-openapi";
import type { organizations } from "../db/schema";
import { toIso } from "../lib/clock";
import { Name } from "../lib/schemas";

export const OrgSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    plan: z.string(),
    role: z.string().optional(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Organization");

export function serializeOrg(o: typeof organizations.$inferSelect, role?: string) {
  return {
    id: o.id,
    name: o.name,
    plan: o.planId,
    ...(role ? { role } : {}),
    created_at: toIso(o.createdAt),
    updated_at: toIso(o.updatedAt),
  };
}

export const CreateOrgBody = z.strictObject({ name: Name }).openapi("CreateOrganization");
export const UpdateOrgBody = z.strictObject({ name: Name }).openapi("UpdateOrganization");
