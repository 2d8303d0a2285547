/**
 * Resolving "may this user act on this org/project?" in one query each. A resource the caller has
 * no membership for is `not_found` (never reveal that another tenant's id exists); a membership
 * whose role lacks the permission is `forbidden`.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "../db/client";
import { memberships, organizations, projects } from "../db/schema";
import { forbidden, notFound } from "../lib/errors";
import { can, type Permission, type Role } from "./permissions";

export interface OrgAccess {
  orgId: string;
  role: Role;
}

export interface ProjectAccess extends OrgAccess {
  projectId: string;
  project: typeof projects.$inferSelect;
}

export async function requireOrgAccess(db: Database, userId: string, orgId: string, permission: Permission): Promise<OrgAccess> {
  const row = await db
    .select({ role: memberships.role })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId), isNull(organizations.deletedAt)))
    .get();
  if (!row) throw notFound("Organization");
  if (!can(row.role, permission)) throw forbidden();
  return { orgId, role: row.role };
}

export async function requireProjectAccess(
  db: Database,
  userId: string,
  projectId: string,
  permission: Permission,
): Promise<ProjectAccess> {
  const row = await db
    .select({ project: projects, role: memberships.role })
    .from(projects)
    .innerJoin(organizations, eq(organizations.id, projects.orgId))
    .innerJoin(memberships, and(eq(memberships.orgId, projects.orgId), eq(memberships.userId, userId)))
    .where(and(eq(projects.id, projectId), isNull(projects.deletedAt), isNull(organizations.deletedAt)))
    .get();
  if (!row) throw notFound("Project");
  if (!can(row.role, permission)) throw forbidden();
  return { orgId: row.project.orgId, projectId, role: row.role, project: row.project };
}
