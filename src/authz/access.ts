/**
 * Resolving "may this user act on this org/project?" in one query each. A resource the caller has
 * no membership for is `not_found` (never reveal that another tenant's id exists); a membership
 * whose role lacks the permission is `forbidden`.
 */
import { and, eq, exists, inArray, isNull, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import type { Database } from "../db/client";
import { memberships, organizations, projects } from "../db/schema";
import { forbidden, notFound, type ApiError } from "../lib/errors";
import { can, rolesWith, type Permission, type Role } from "./permissions";

/** The project an operation acts in, and its org (every tenant row carries both). */
export interface Tenant {
  projectId: string;
  orgId: string;
}

/** Just the tenant's ids (an access or a caller carries more), e.g. for an audit entry. */
export function tenantOf(t: Tenant): Tenant {
  return { projectId: t.projectId, orgId: t.orgId };
}

export interface OrgAccess {
  orgId: string;
  role: Role;
}

export interface ProjectAccess extends OrgAccess, Tenant {
  project: typeof projects.$inferSelect;
}

/** What a 403 of this module was refused on (audited as `access.denied` by audit/denied.ts). */
export interface Denial {
  orgId: string;
  projectId: string | null;
  permission: Permission;
}

const denials = new WeakMap<ApiError, Denial>();

function denied(denial: Denial): ApiError {
  const error = forbidden();
  denials.set(error, denial);
  return error;
}

/** The org, project and permission a `forbidden` error from this module was refused on. */
export function denialOf(error: ApiError): Denial | undefined {
  return denials.get(error);
}

export async function requireOrgAccess(db: Database, userId: string, orgId: string, permission: Permission): Promise<OrgAccess> {
  const row = await db
    .select({ role: memberships.role })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId), isNull(organizations.deletedAt)))
    .get();
  if (!row) throw notFound("Organization");
  if (!can(row.role, permission)) throw denied({ orgId, projectId: null, permission });
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
  if (!can(row.role, permission)) throw denied({ orgId: row.project.orgId, projectId, permission });
  return { orgId: row.project.orgId, projectId, role: row.role, project: row.project };
}

const actorMembership = alias(memberships, "actor_membership");
const actorOrg = alias(organizations, "actor_org");

/**
 * The same question as `requireOrgAccess`, as a SQL condition for a write's WHERE clause. D1 has
 * no interactive transactions, so a change that depends on the caller's role re-checks that role in
 * the very statement that makes it: a caller demoted or removed between the check and the write
 * changes nothing.
 */
export function stillHolds(db: Database, orgId: string, userId: string, permission: Permission): SQL {
  return exists(
    db
      .select({ one: actorMembership.userId })
      .from(actorMembership)
      .innerJoin(actorOrg, eq(actorOrg.id, actorMembership.orgId))
      .where(
        and(
          eq(actorMembership.orgId, orgId),
          eq(actorMembership.userId, userId),
          inArray(actorMembership.role, rolesWith(permission)),
          isNull(actorOrg.deletedAt),
        ),
      ),
  );
}
