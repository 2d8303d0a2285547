/**
 * What deleting a project (or a whole org) does to everything that could still act for it: keys
 * are revoked, webhook endpoints deleted and disabled, so nothing of a deleted tenant authenticates
 * or delivers. Returned as batch statements so the caller commits them with its own change and audit.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { BatchItem, Database } from "../db/client";
import { apiKeys, projects, webhookEndpoints } from "../db/schema";

export function retireProjects(db: Database, scope: { orgId: string } | { projectId: string }, at: number): BatchItem[] {
  const byKey = "orgId" in scope ? eq(apiKeys.orgId, scope.orgId) : eq(apiKeys.projectId, scope.projectId);
  const byProject = "orgId" in scope ? eq(projects.orgId, scope.orgId) : eq(projects.id, scope.projectId);
  const byEndpoint = "orgId" in scope ? eq(webhookEndpoints.orgId, scope.orgId) : eq(webhookEndpoints.projectId, scope.projectId);
  return [
    db.update(apiKeys).set({ revokedAt: at }).where(and(byKey, isNull(apiKeys.revokedAt))),
    db
      .update(webhookEndpoints)
      .set({ enabled: false, deletedAt: at, updatedAt: at, disabledReason: "project_deleted" })
      .where(and(byEndpoint, isNull(webhookEndpoints.deletedAt))),
    db.update(projects).set({ deletedAt: at, updatedAt: at }).where(and(byProject, isNull(projects.deletedAt))),
  ];
}
