/**
 * Projects: create, list, rename, delete. Callers resolve the user's access first
 * (`authz/access.ts`); these functions make the change and its audit entry in one batch.
 */
import { and, eq, isNull } from "drizzle-orm";
import { auditEntry, type AuditActor } from "../audit/record";
import { runBatch, type Database } from "../db/client";
import { projects } from "../db/schema";
import type { Deps } from "../deps";
import { nowMs } from "../lib/clock";
import { notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { afterCursor, newestFirst, page } from "../lib/pagination";
import { announceRetiredProjects } from "../api-keys/revocation";
import { tearDownDeletedProjects } from "./livekit-teardown";
import { retireProjects } from "./retire";

export type Project = typeof projects.$inferSelect;

export async function createProject(db: Database, audit: AuditActor, orgId: string, name: string): Promise<Project> {
  const at = nowMs();
  const project = { id: newId("project"), orgId, name, rateLimitPerMin: null, createdAt: at, updatedAt: at, deletedAt: null };
  await db.batch([
    db.insert(projects).values(project),
    auditEntry(db, audit, { action: "project.created", resourceType: "project", resourceId: project.id, orgId, projectId: project.id, metadata: { name } }, at),
  ]);
  return project;
}

export async function listProjects(db: Database, orgId: string, opts: { limit: number; cursor?: string }) {
  const rows = await db
    .select()
    .from(projects)
    .where(and(eq(projects.orgId, orgId), isNull(projects.deletedAt), afterCursor(opts.cursor, projects.createdAt, projects.id)))
    .orderBy(...newestFirst(projects.createdAt, projects.id))
    .limit(opts.limit + 1)
    .all();
  return page(rows, opts.limit);
}

export async function renameProject(db: Database, audit: AuditActor, project: { id: string; orgId: string }, name: string): Promise<Project> {
  const at = nowMs();
  const [updated] = await db.batch([
    db.update(projects).set({ name, updatedAt: at }).where(and(eq(projects.id, project.id), isNull(projects.deletedAt))).returning(),
    auditEntry(
      db,
      audit,
      { action: "project.updated", resourceType: "project", resourceId: project.id, orgId: project.orgId, projectId: project.id, metadata: { name } },
      at,
    ),
  ]);
  const row = updated[0];
  if (!row) throw notFound("Project");
  return row;
}

/** Deletes the project: keys revoked, endpoints disabled, its LiveKit egresses and ingresses stopped. */
export async function deleteProject(deps: Deps, audit: AuditActor, project: { id: string; orgId: string }): Promise<void> {
  const { db } = deps;
  await announceRetiredProjects(deps, [project.id]);
  const at = nowMs();
  await runBatch(db, [
    ...retireProjects(db, { projectId: project.id }, at),
    auditEntry(db, audit, { action: "project.deleted", resourceType: "project", resourceId: project.id, orgId: project.orgId, projectId: project.id }, at),
  ]);
  deps.background(tearDownDeletedProjects(db, deps.config.livekit, deps.logger, [project.id]).catch(() => undefined));
}
