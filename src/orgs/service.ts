/** Organizations: create (the creator becomes owner), list the caller's, read, rename and delete. */
import { and, eq, isNull, type SQL } from "drizzle-orm";
import { auditEntryWhen, type AuditActor, type UserActor } from "../audit/record";
import { belowCap, capReached, freeOrgsOwnedBy, insertWhen, rowsMatch, rowWritten } from "../db/count-cap";
import { invitations, memberships, organizations, projects } from "../db/schema";
import type { Deps } from "../deps";
import { nowMs } from "../lib/clock";
import { notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { newestFirstPage, type PageRequest } from "../lib/pagination";
import { retireProjects } from "../projects/retire";

type OrgRow = typeof organizations.$inferSelect;

/**
 * A new org starts on the free plan, so the creator may own at most LIMIT_FREE_ORGS_PER_USER live
 * free orgs: counted inside the org's INSERT, so concurrent creates cannot overshoot it. (Moving an
 * org to the free plan is held to the same cap, `billing/service.ts`.)
 */
export async function createOrg(deps: Pick<Deps, "db" | "config">, caller: UserActor, input: { name: string }): Promise<OrgRow> {
  const { db } = deps;
  const at = nowMs();
  const cap = deps.config.limits.freeOrgsPerUser;
  const org: OrgRow = { id: newId("org"), name: input.name, planId: "free", createdAt: at, updatedAt: at, deletedAt: null };
  const written = rowWritten(organizations.id, org.id);
  const [inserted] = await db.batch([
    insertWhen(db, organizations, org, belowCap(freeOrgsOwnedBy(db, caller.userId), cap)),
    insertWhen(db, memberships, { orgId: org.id, userId: caller.userId, role: "owner", createdAt: at, updatedAt: at }, written),
    auditEntryWhen(db, caller.audit, { action: "org.created", resourceType: "org", resourceId: org.id, orgId: org.id, metadata: { name: input.name } }, written, at),
  ]);
  if (inserted.length === 0) throw capReached("free-plan organizations you own", cap, "LIMIT_FREE_ORGS_PER_USER");
  return org;
}

/** The live organizations `userId` belongs to, newest first, each with their role. */
export function listOrgsOf(deps: Pick<Deps, "db">, userId: string, request: PageRequest) {
  return newestFirstPage(request, organizations, async (after, order, fetch) => {
    const rows = await deps.db
      .select({ org: organizations, role: memberships.role })
      .from(memberships)
      .innerJoin(organizations, eq(organizations.id, memberships.orgId))
      .where(and(eq(memberships.userId, userId), isNull(organizations.deletedAt), after))
      .orderBy(...order)
      .limit(fetch)
      .all();
    return rows.map((r) => ({ ...r, id: r.org.id, createdAt: r.org.createdAt }));
  });
}

export async function findOrg(deps: Pick<Deps, "db">, orgId: string): Promise<OrgRow> {
  const org = await deps.db.select().from(organizations).where(eq(organizations.id, orgId)).get();
  if (!org) throw notFound("Organization");
  return org;
}

/** The org, not deleted: the WHERE of a change to it and (`rowsMatch`) the guard of its audit entry, placed before it. */
function liveOrg(orgId: string): SQL {
  return and(eq(organizations.id, orgId), isNull(organizations.deletedAt))!;
}

export async function renameOrg(deps: Pick<Deps, "db">, actor: AuditActor, orgId: string, input: { name: string }): Promise<OrgRow> {
  const { db } = deps;
  const at = nowMs();
  const [, updated] = await db.batch([
    auditEntryWhen(db, actor, { action: "org.updated", resourceType: "org", resourceId: orgId, orgId, metadata: { name: input.name } }, rowsMatch(organizations, liveOrg(orgId)), at),
    db.update(organizations).set({ name: input.name, updatedAt: at }).where(liveOrg(orgId)).returning(),
  ]);
  const org = updated[0];
  if (!org) throw notFound("Organization");
  return org;
}

/**
 * Deletes the organization and retires every project in it (`projects/retire.ts`); its pending
 * invitations are revoked in the same batch.
 */
export async function deleteOrg(deps: Pick<Deps, "db" | "config" | "logger" | "limiter" | "background">, actor: AuditActor, orgId: string): Promise<void> {
  const { db } = deps;
  const live = await db.select({ id: projects.id }).from(projects).where(and(eq(projects.orgId, orgId), isNull(projects.deletedAt))).all();
  const at = nowMs();
  await retireProjects(
    deps,
    actor,
    { orgId },
    live.map((p) => p.id),
    at,
    [
      auditEntryWhen(db, actor, { action: "org.deleted", resourceType: "org", resourceId: orgId, orgId }, rowsMatch(organizations, liveOrg(orgId)), at),
      db.update(invitations).set({ revokedAt: at }).where(and(eq(invitations.orgId, orgId), isNull(invitations.acceptedAt), isNull(invitations.revokedAt))),
      db.update(organizations).set({ deletedAt: at, updatedAt: at }).where(liveOrg(orgId)),
    ],
  );
}
