/**
 * Organizations: create, list, rename, delete. Callers resolve the user's access first
 * (`authz/access.ts`); these functions make the change and its audit entry in one batch.
 */
import { and, eq, isNull } from "drizzle-orm";
import { auditEntry, type AuditActor } from "../audit/record";
import type { Role } from "../authz/permissions";
import { runBatch, type Database } from "../db/client";
import { invitations, memberships, organizations, projects } from "../db/schema";
import type { Deps } from "../deps";
import { nowMs } from "../lib/clock";
import { notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { afterCursor, newestFirst, page } from "../lib/pagination";
import { announceRetiredProjects } from "../api-keys/revocation";
import { tearDownDeletedProjects } from "../projects/livekit-teardown";
import { retireProjects } from "../projects/retire";

export type Organization = typeof organizations.$inferSelect;

/** Creates an org on the free plan with `userId` as its owner. */
export async function createOrg(db: Database, audit: AuditActor, userId: string, name: string): Promise<Organization> {
  const at = nowMs();
  const org = { id: newId("org"), name, planId: "free", createdAt: at, updatedAt: at, deletedAt: null };
  await db.batch([
    db.insert(organizations).values(org),
    db.insert(memberships).values({ orgId: org.id, userId, role: "owner", createdAt: at, updatedAt: at }),
    auditEntry(db, audit, { action: "org.created", resourceType: "org", resourceId: org.id, orgId: org.id, metadata: { name } }, at),
  ]);
  return org;
}

/** The orgs `userId` belongs to, newest first, with their role in each. */
export async function listUserOrgs(db: Database, userId: string, opts: { limit: number; cursor?: string }) {
  const rows = await db
    .select({ org: organizations, role: memberships.role })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .where(and(eq(memberships.userId, userId), isNull(organizations.deletedAt), afterCursor(opts.cursor, organizations.createdAt, organizations.id)))
    .orderBy(...newestFirst(organizations.createdAt, organizations.id))
    .limit(opts.limit + 1)
    .all();
  const result = page(rows.map((r) => ({ ...r, id: r.org.id, createdAt: r.org.createdAt })), opts.limit);
  return { rows: result.rows as { org: Organization; role: Role }[], nextCursor: result.nextCursor };
}

export async function findOrg(db: Database, orgId: string): Promise<Organization> {
  const org = await db.select().from(organizations).where(and(eq(organizations.id, orgId), isNull(organizations.deletedAt))).get();
  if (!org) throw notFound("Organization");
  return org;
}

export async function renameOrg(db: Database, audit: AuditActor, orgId: string, name: string): Promise<Organization> {
  const at = nowMs();
  const [updated] = await db.batch([
    db.update(organizations).set({ name, updatedAt: at }).where(and(eq(organizations.id, orgId), isNull(organizations.deletedAt))).returning(),
    auditEntry(db, audit, { action: "org.updated", resourceType: "org", resourceId: orgId, orgId, metadata: { name } }, at),
  ]);
  const org = updated[0];
  if (!org) throw notFound("Organization");
  return org;
}

/** Deletes the org: its projects are retired (keys revoked, endpoints disabled) and LiveKit work stopped. */
export async function deleteOrg(deps: Deps, audit: AuditActor, orgId: string): Promise<void> {
  const { db } = deps;
  const live = await db.select({ id: projects.id }).from(projects).where(and(eq(projects.orgId, orgId), isNull(projects.deletedAt))).all();
  const projectIds = live.map((p) => p.id);
  await announceRetiredProjects(deps, projectIds);
  const at = nowMs();
  await runBatch(db, [
    ...retireProjects(db, { orgId }, at),
    db.update(invitations).set({ revokedAt: at }).where(and(eq(invitations.orgId, orgId), isNull(invitations.acceptedAt), isNull(invitations.revokedAt))),
    db.update(organizations).set({ deletedAt: at, updatedAt: at }).where(eq(organizations.id, orgId)),
    auditEntry(db, audit, { action: "org.deleted", resourceType: "org", resourceId: orgId, orgId }, at),
  ]);
  if (projectIds.length > 0) {
    deps.background(tearDownDeletedProjects(db, deps.config.livekit, deps.logger, projectIds).catch(() => undefined));
  }
}
