/**
 * Team membership: listing, changing roles, removing and leaving.
 *
 * Two rules make this more than CRUD:
 * - Owners only touch owners, and an admin can raise nobody above admin (`permissionToManage`).
 * - An org always keeps at least one owner: the last owner cannot leave, be removed or be demoted.
 *
 * D1 has no interactive transactions, so the checks below run twice: first as reads (to answer
 * with a precise error), then again inside the write itself, as the WHERE clause of the UPDATE or
 * DELETE (`guard`). Two owners demoting each other at the same moment therefore cannot both win:
 * D1 runs one batch at a time, and the second one's guard no longer finds another owner.
 */
import { and, eq, exists, ne, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { auditEntryWhen, type AuditActor } from "../audit/record";
import { stillHolds } from "../authz/access";
import { can, permissionToManage, type Permission, type Role } from "../authz/permissions";
import type { Database } from "../db/client";
import { memberships, users } from "../db/schema";
import { nowMs } from "../lib/clock";
import { conflict, forbidden, notFound } from "../lib/errors";
import { afterCursor, newestFirst, page } from "../lib/pagination";
import type { MemberRow } from "./schemas";

/** The caller of a team operation: who they are, their role in the org, and how to audit them. */
export interface TeamActor {
  userId: string;
  role: Role;
  audit: AuditActor;
}

const memberColumns = {
  userId: memberships.userId,
  name: users.name,
  email: users.email,
  role: memberships.role,
  createdAt: memberships.createdAt,
  updatedAt: memberships.updatedAt,
};

export async function listMembers(db: Database, orgId: string, opts: { limit: number; cursor?: string }) {
  const rows = await db
    .select(memberColumns)
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.orgId, orgId), afterCursor(opts.cursor, memberships.createdAt, memberships.userId)))
    .orderBy(...newestFirst(memberships.createdAt, memberships.userId))
    .limit(opts.limit + 1)
    .all();
  const result = page(rows.map((r) => ({ ...r, id: r.userId })), opts.limit);
  return { rows: result.rows as MemberRow[], nextCursor: result.nextCursor };
}

export async function findMember(db: Database, orgId: string, userId: string): Promise<MemberRow | undefined> {
  return db
    .select(memberColumns)
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId)))
    .get();
}

async function loadMember(db: Database, orgId: string, userId: string): Promise<MemberRow> {
  const member = await findMember(db, orgId, userId);
  if (!member) throw notFound("Member");
  return member;
}

const otherOwner = alias(memberships, "other_owner");

/** True while someone other than `userId` is an owner of the org. */
function anotherOwnerRemains(db: Database, orgId: string, userId: string): SQL {
  return exists(
    db
      .select({ one: otherOwner.userId })
      .from(otherOwner)
      .where(and(eq(otherOwner.orgId, orgId), eq(otherOwner.role, "owner"), ne(otherOwner.userId, userId))),
  );
}

async function countOwners(db: Database, orgId: string): Promise<number> {
  const rows = await db
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.role, "owner")))
    .limit(2)
    .all();
  return rows.length;
}

const LAST_OWNER = "An organization needs at least one owner: make someone else an owner first.";

/** A member about to be changed, with the org the change is in. */
type Target = MemberRow & { orgId: string };

/** The permissions a change to `target` needs from the actor (leaving yourself needs none). */
function requiredPermissions(actor: TeamActor, target: Target, newRole?: Role): Permission[] {
  if (newRole === undefined && target.userId === actor.userId) return [];
  const needed = new Set<Permission>([permissionToManage(target.role)]);
  if (newRole) needed.add(permissionToManage(newRole));
  return [...needed];
}

/**
 * Throws the precise reason a change to `target` is refused, given the state just read. Called
 * before the write, and again after a guarded write changed nothing, to explain why.
 */
async function assertAllowed(db: Database, actor: TeamActor, target: Target, needed: Permission[], losesOwner: boolean) {
  for (const permission of needed) {
    if (!can(actor.role, permission)) {
      throw forbidden(permission === "owner:manage" ? "Only owners can grant, change or remove the owner role." : undefined);
    }
  }
  if (losesOwner && (await countOwners(db, target.orgId)) < 2) throw conflict(LAST_OWNER);
}

/** The WHERE clause that re-checks, inside the write, everything `assertAllowed` checked. */
function guard(db: Database, orgId: string, actor: TeamActor, target: Target, needed: Permission[], losesOwner: boolean): SQL {
  return and(
    eq(memberships.orgId, orgId),
    eq(memberships.userId, target.userId),
    // Compare-and-swap on the role the decision was made for: if it changed meanwhile, nothing happens.
    eq(memberships.role, target.role),
    ...needed.map((permission) => stillHolds(db, orgId, actor.userId, permission)),
    losesOwner ? anotherOwnerRemains(db, orgId, target.userId) : undefined,
  )!;
}

function guardedRowExists(db: Database, condition: SQL): SQL {
  return exists(db.select({ one: memberships.userId }).from(memberships).where(condition));
}

/** After a guarded write matched nothing: explain with fresh state, or report the race. */
async function explainRefusal(db: Database, orgId: string, actor: TeamActor, targetId: string, newRole?: Role): Promise<never> {
  const fresh = await loadMember(db, orgId, targetId);
  const actorNow = await findMember(db, orgId, actor.userId);
  if (!actorNow) throw notFound("Organization");
  const now: TeamActor = { ...actor, role: actorNow.role };
  const target = { ...fresh, orgId };
  const losesOwner = fresh.role === "owner" && newRole !== "owner";
  await assertAllowed(db, now, target, requiredPermissions(now, target, newRole), losesOwner);
  throw conflict("The team changed while this request ran and nothing was changed; read it again and retry.");
}

export async function changeMemberRole(db: Database, actor: TeamActor, orgId: string, targetId: string, role: Role): Promise<MemberRow> {
  const target = { ...(await loadMember(db, orgId, targetId)), orgId };
  const needed = requiredPermissions(actor, target, role);
  const losesOwner = target.role === "owner" && role !== "owner";
  await assertAllowed(db, actor, target, needed, losesOwner);
  if (target.role === role) return target;

  const at = nowMs();
  const condition = guard(db, orgId, actor, target, needed, losesOwner);
  const [, updated] = await db.batch([
    auditEntryWhen(
      db,
      actor.audit,
      {
        action: "member.role_changed",
        resourceType: "member",
        resourceId: targetId,
        orgId,
        metadata: { from: target.role, to: role, email: target.email },
      },
      guardedRowExists(db, condition),
      at,
    ),
    db.update(memberships).set({ role, updatedAt: at }).where(condition).returning({ userId: memberships.userId }),
  ]);
  if (updated.length === 0) return explainRefusal(db, orgId, actor, targetId, role);
  return { ...target, role, updatedAt: at };
}

/** Removes `targetId` from the org; when it is the actor themself, this is leaving. */
export async function removeMember(db: Database, actor: TeamActor, orgId: string, targetId: string): Promise<void> {
  const target = { ...(await loadMember(db, orgId, targetId)), orgId };
  const leaving = targetId === actor.userId;
  const needed = requiredPermissions(actor, target);
  const losesOwner = target.role === "owner";
  await assertAllowed(db, actor, target, needed, losesOwner);

  const at = nowMs();
  const condition = guard(db, orgId, actor, target, needed, losesOwner);
  const [, deleted] = await db.batch([
    auditEntryWhen(
      db,
      actor.audit,
      {
        action: leaving ? "member.left" : "member.removed",
        resourceType: "member",
        resourceId: targetId,
        orgId,
        metadata: { role: target.role, email: target.email },
      },
      guardedRowExists(db, condition),
      at,
    ),
    db.delete(memberships).where(condition).returning({ userId: memberships.userId }),
  ]);
  if (deleted.length === 0) return explainRefusal(db, orgId, actor, targetId);
}
