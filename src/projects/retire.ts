/**
 * The deletion cascade of one project or a whole org: everything that could still act for it is
 * stopped, so nothing of a deleted tenant authenticates, delivers or keeps streaming.
 *
 * 1. The projects' limiter objects learn they are retired, so every key of theirs is refused at
 *    once in every isolate (before D1 changes: if this fails, nothing changed).
 * 2. One batch revokes the keys (each with its own `api_key.revoked` entry, as a revocation by
 *    hand has), deletes and disables the webhook endpoints, deletes the projects, and carries the
 *    caller's own change and audit entry.
 * 3. Their active egresses are stopped and ingresses deleted in LiveKit, right away in the
 *    background; the five-minute cron picks up whatever LiveKit could not be reached for.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { announceRetiredProjects } from "../api-keys/revocation";
import { auditEntriesForRows, type AuditActor } from "../audit/record";
import { runBatch, type BatchItem, type Database } from "../db/client";
import { apiKeys, projects, webhookEndpoints } from "../db/schema";
import type { Deps } from "../deps";
import { tearDownDeletedProjects } from "./livekit-teardown";

export type RetirementScope = { orgId: string } | { projectId: string };

function retirementStatements(db: Database, actor: AuditActor, scope: RetirementScope, at: number): BatchItem[] {
  const byKey = "orgId" in scope ? eq(apiKeys.orgId, scope.orgId) : eq(apiKeys.projectId, scope.projectId);
  const byProject = "orgId" in scope ? eq(projects.orgId, scope.orgId) : eq(projects.id, scope.projectId);
  const byEndpoint = "orgId" in scope ? eq(webhookEndpoints.orgId, scope.orgId) : eq(webhookEndpoints.projectId, scope.projectId);
  const liveKeys = and(byKey, isNull(apiKeys.revokedAt))!;
  return [
    auditEntriesForRows(
      db,
      actor,
      { action: "api_key.revoked", resourceType: "api_key" },
      {
        table: apiKeys,
        where: liveKeys,
        resourceId: apiKeys.id,
        orgId: apiKeys.orgId,
        projectId: apiKeys.projectId,
        metadata: sql`json_object('prefix', ${apiKeys.prefix}, 'reason', ${"orgId" in scope ? "org_deleted" : "project_deleted"})`,
      },
      at,
    ),
    db.update(apiKeys).set({ revokedAt: at }).where(liveKeys),
    db
      .update(webhookEndpoints)
      .set({ enabled: false, deletedAt: at, updatedAt: at, disabledReason: "project_deleted" })
      .where(and(byEndpoint, isNull(webhookEndpoints.deletedAt))),
    db.update(projects).set({ deletedAt: at, updatedAt: at }).where(and(byProject, isNull(projects.deletedAt))),
  ];
}

/**
 * Retires the live projects `projectIds` of `scope` at `at`, committing `ownWrites` (the caller's
 * change and its audit entry, guarded on what they change still being live) first, in the same batch.
 */
export async function retireProjects(
  deps: Pick<Deps, "db" | "config" | "logger" | "limiter" | "background">,
  actor: AuditActor,
  scope: RetirementScope,
  projectIds: string[],
  at: number,
  ownWrites: BatchItem[],
): Promise<void> {
  const { db } = deps;
  await announceRetiredProjects(deps, projectIds);
  // The caller's writes first: their audit entry's guard reads the state before the retirement.
  await runBatch(db, [...ownWrites, ...retirementStatements(db, actor, scope, at)]);
  if (projectIds.length > 0) {
    deps.background(tearDownDeletedProjects(db, deps.config.livekit, deps.logger, projectIds).catch(() => undefined));
  }
}
