/** Projects of an organization: create, list, rename and delete (with its cascade, `retire.ts`). */
import { and, count, eq, isNull, type SQL } from "drizzle-orm";
import { auditEntryWhen, type AuditActor } from "../audit/record";
import { belowCap, capReached, insertWhen, rowsMatch, rowWritten } from "../db/count-cap";
import { tenantOf, type Tenant } from "../authz/access";
import { projects } from "../db/schema";
import type { Deps } from "../deps";
import { nowMs } from "../lib/clock";
import { notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { newestFirstPage, type PageRequest } from "../lib/pagination";
import { retireProjects } from "./retire";

type ProjectRow = typeof projects.$inferSelect;

/** At most LIMIT_PROJECTS_PER_ORG live projects per org, counted inside the INSERT. */
export async function createProject(deps: Pick<Deps, "db" | "config">, actor: AuditActor, orgId: string, input: { name: string }): Promise<ProjectRow> {
  const { db } = deps;
  const at = nowMs();
  const cap = deps.config.limits.projectsPerOrg;
  const project: ProjectRow = { id: newId("project"), orgId, name: input.name, rateLimitPerMin: null, createdAt: at, updatedAt: at, deletedAt: null };
  const live = db.select({ n: count() }).from(projects).where(and(eq(projects.orgId, orgId), isNull(projects.deletedAt)));
  const [inserted] = await db.batch([
    insertWhen(db, projects, project, belowCap(live, cap)),
    auditEntryWhen(
      db,
      actor,
      { action: "project.created", resourceType: "project", resourceId: project.id, orgId, projectId: project.id, metadata: { name: input.name } },
      rowWritten(projects.id, project.id),
      at,
    ),
  ]);
  if (inserted.length === 0) throw capReached("projects in this organization", cap, "LIMIT_PROJECTS_PER_ORG");
  return project;
}

export function listProjects(deps: Pick<Deps, "db">, orgId: string, request: PageRequest) {
  return newestFirstPage(request, projects, (after, order, fetch) =>
    deps.db.select().from(projects).where(and(eq(projects.orgId, orgId), isNull(projects.deletedAt), after)).orderBy(...order).limit(fetch).all(),
  );
}

/** The project, not deleted: the WHERE of a change to it and (`rowsMatch`) the guard of its audit entry, placed before it. */
function liveProject(projectId: string): SQL {
  return and(eq(projects.id, projectId), isNull(projects.deletedAt))!;
}

export async function updateProject(deps: Pick<Deps, "db">, actor: AuditActor, tenant: Tenant, input: { name: string }): Promise<ProjectRow> {
  const { db } = deps;
  const at = nowMs();
  const [, updated] = await db.batch([
    auditEntryWhen(
      db,
      actor,
      { action: "project.updated", resourceType: "project", resourceId: tenant.projectId, ...tenantOf(tenant), metadata: { name: input.name } },
      rowsMatch(projects, liveProject(tenant.projectId)),
      at,
    ),
    db.update(projects).set({ name: input.name, updatedAt: at }).where(liveProject(tenant.projectId)).returning(),
  ]);
  const project = updated[0];
  if (!project) throw notFound("Project");
  return project;
}

/** Deletes the project: its keys stop working, its endpoints stop delivering, its LiveKit egresses and ingresses end. */
export async function retireProject(deps: Pick<Deps, "db" | "config" | "logger" | "limiter" | "background">, actor: AuditActor, tenant: Tenant): Promise<void> {
  const at = nowMs();
  await retireProjects(deps, actor, { projectId: tenant.projectId }, [tenant.projectId], at, [
    auditEntryWhen(deps.db, actor, { action: "project.deleted", resourceType: "project", resourceId: tenant.projectId, ...tenantOf(tenant) }, rowsMatch(projects, liveProject(tenant.projectId)), at),
  ]);
}
