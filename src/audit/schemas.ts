/** The audit log's API shapes: the list and export filters, an entry, and its serializer. */
import { z } from "@hono/zod-openapi";
import type { auditLogs } from "../db/schema";
import { toIso } from "../lib/clock";
import { Timestamp } from "../lib/schemas";

export const AuditFilters = z.object({
  action: z.string().min(1).max(100).optional(),
  actor_id: z.string().min(1).max(64).optional(),
  resource_type: z.string().min(1).max(64).optional(),
  // Room entries name the tenant's room (up to 128 characters), not an id.
  resource_id: z.string().min(1).max(256).optional(),
  project_id: z.string().min(1).max(64).optional(),
  since: Timestamp.optional().openapi({ description: "Inclusive lower bound (RFC 3339)" }),
  until: Timestamp.optional().openapi({ description: "Exclusive upper bound (RFC 3339)" }),
});
export type AuditFilters = z.infer<typeof AuditFilters>;

export const AuditEntrySchema = z
  .object({
    id: z.string(),
    org_id: z.string().nullable(),
    project_id: z.string().nullable(),
    actor_type: z.string(),
    actor_id: z.string().nullable(),
    action: z.string(),
    resource_type: z.string(),
    resource_id: z.string().nullable(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    request_id: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
  })
  .openapi("AuditEntry");

export type AuditEntryJson = z.infer<typeof AuditEntrySchema>;

export function serializeAudit(r: typeof auditLogs.$inferSelect): AuditEntryJson {
  return {
    id: r.id,
    org_id: r.orgId,
    project_id: r.projectId,
    actor_type: r.actorType,
    actor_id: r.actorId,
    action: r.action,
    resource_type: r.resourceType,
    resource_id: r.resourceId,
    ip: r.ip,
    user_agent: r.userAgent,
    request_id: r.requestId,
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    created_at: toIso(r.createdAt),
  };
}
