/** Projects of an organization: create, list, rename and delete (with its cascade, `retire.ts`). */
import { and, eq, isNull } from "drizzle-orm";
import { auditEntry, type AuditActor } from "../audit/record";
import type { Tenant } from "../authz/access";
import { projects } from "../db/schema";
import type { Deps } from "../deps";
import { nowMs } from "../lib/clock";
import { notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { afterCursor, newestFirst, page, type PageRequest } from "../lib/pagination";
import { retireProjects } from "./retire";

type ProjectRow = typeof projects.$inferSelect;

export async function createProject(deps: Pick<Deps, "db">, actor: AuditActor, orgId: string, input: { name: string }): Promise<ProjectRow> {
  const { db } = deps;
  const at = nowMs();
  const project: ProjectRow = { id: newId("project"), orgId, name: input.name, rateLimitPerMin: null, createdAt: at, updatedAt: at, deletedAt: null };
  await db.batch([
    db.insert(projects).values(project),
    auditEntry(
      db,
      actor,
      { action: "project.created", resourceType: "project", resourceId: project.id, orgId, projectId: project.id, metadata: { name: input.name } },
      at,
    ),
  ]);
  return project;
}

export async function listProjects(deps: Pick<Deps, "db">, orgId: string, { limit, cursor }: PageRequest) {
  const rows = await deps.db
    .select()
    .from(projects)
    .where(and(eq(projects.orgId, orgId), isNull(projects.deletedAt), afterCursor(cursor, projects.createdAt, projects.id)))
    .orderBy(...newestFirst(projects.createdAt, projects.id))
    .limit(limit + 1)
    .all();
  return page(rows, limit);
}

export async function updateProject(deps: Pick<Deps, "db">, actor: AuditActor, tenant: Tenant, input: { name: string }): Promise<ProjectRow> {
  const { db } = deps;
  const at = nowMs();
  const [updated] = await db.batch([
    db
      .update(projects)
      .set({ name: input.name, updatedAt: at })
      .where(and(eq(projects.id, tenant.projectId), isNull(projects.deletedAt)))
      .returning(),
    auditEntry(
      db,
      actor,
      { action: "project.updated", resourceType: "project", resourceId: tenant.projectId, orgId: tenant.orgId, projectId: tenant.projectId, metadata: { name: input.name } },
      at,
    ),
  ]);
  const project = updated[0];
  if (!project) throw notFound("Project");
  return project;
}

/** Deletes the project: its keys stop working, its endpoints stop delivering, its LiveKit egresses and ingresses end. */
export async function retireProject(deps: Pick<Deps, "db" | "config" | "logger" | "limiter" | "background">, actor: AuditActor, tenant: Tenant): Promise<void> {
  const at = nowMs();
  await retireProjects(deps, { projectId: tenant.projectId }, [tenant.projectId], at, [
    auditEntry(deps.db, actor, { action: "project.deleted", resourceType: "project", resourceId: tenant.projectId, orgId: tenant.orgId, projectId: tenant.projectId }, at),
  ]);
}
