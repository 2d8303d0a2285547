/**
 * Invitations: how people join an org. An invitation is pending while it is neither accepted nor
 * revoked nor expired; only a pending one can be accepted, exactly once, by the signed-in user whose
 * verified email matches it case-insensitively. The invitee is emailed the accept link through the
 * mailer (throttled per address: beyond the throttle the invitation is still made, but not mailed).
 *
 * Refusals when accepting (all change nothing):
 * - unknown token → 404 `not_found`
 * - the signed-in user's email is not the invited one → 403 `forbidden`
 * - the signed-in user has not verified their email yet → 403 `forbidden`, saying so
 * - already used, revoked or expired → 409 `conflict` (the token existed but is no longer usable;
 *   the contract has no 410, so every "dead invitation" case is one status, told apart by message)
 * - already a member of the org → 409 `conflict`
 */
import { and, count, eq, exists, gt, isNull, sql, type SQL } from "drizzle-orm";
import type { Limits } from "../config";
import { belowCap, capReached, insertWhen, rowWritten } from "../db/count-cap";
import { auditEntry, auditEntryWhen } from "../audit/record";
import { permissionToManage, can, type Role } from "../authz/permissions";
import { isUniqueViolation, runBatch, type BatchItem, type Database } from "../db/client";
import { invitations, memberships, organizations, users } from "../db/schema";
import { normalizeEmail } from "../identity/service";
import { nowMs, toIso } from "../lib/clock";
import { conflict, forbidden, notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { afterCursor, newestFirst, page } from "../lib/pagination";
import { findMember, type TeamActor } from "../members/service";
import { sendStaged, stageMail, unstageMail, type MailDeps } from "../mail/mailer";
import { invitationEmail } from "../mail/templates";
import { acceptUrl, hashInvitationToken, newInvitationToken } from "./token";

const DAY_MS = 86_400_000;

type Invitation = typeof invitations.$inferSelect;

/** Pending at `at`: not accepted, not revoked, not expired. */
function pending(at: number): SQL {
  return and(isNull(invitations.acceptedAt), isNull(invitations.revokedAt), gt(invitations.expiresAt, at))!;
}

function rowExists(db: Database, condition: SQL): SQL {
  return exists(db.select({ one: invitations.id }).from(invitations).where(condition));
}

function assertMayManage(actor: TeamActor, role: Role) {
  if (!can(actor.role, permissionToManage(role, "invitation:write"))) {
    throw forbidden("Only owners can invite owners or revoke owner invitations.");
  }
}

/**
 * Invites `input.email`. Re-inviting an address replaces its pending invitations, and replacing is
 * revoking: the caller must be allowed to manage each old invitation's role too (an admin cannot
 * cancel an owner invitation by re-inviting the address as a viewer). At most
 * LIMIT_PENDING_INVITATIONS_PER_ORG are pending at once, counted inside the INSERT after the
 * replaced ones were revoked in the same batch.
 */
export async function createInvitation(
  db: Database,
  actor: TeamActor,
  orgId: string,
  input: { email: string; role: Role; expires_in_days: number },
  limits: Pick<Limits, "pendingInvitationsPerOrg">,
  mail?: { deps: MailDeps; publicUrl: string },
) {
  assertMayManage(actor, input.role);
  const emailNormalized = normalizeEmail(input.email);
  const existing = await db
    .select({ userId: memberships.userId })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.orgId, orgId), eq(users.emailNormalized, emailNormalized)))
    .get();
  if (existing) throw conflict("This person is already a member of the organization.");

  const at = nowMs();
  // Re-inviting replaces: whatever is still pending for this address is revoked in the same batch.
  const replaced = await db
    .select({ id: invitations.id, role: invitations.role })
    .from(invitations)
    .where(and(eq(invitations.orgId, orgId), eq(invitations.emailNormalized, emailNormalized), pending(at)))
    .all();
  // Only the rows read here are revoked below, so no invitation escapes this check.
  for (const old of replaced) assertMayManage(actor, old.role);
  const { token, hash } = await newInvitationToken();
  const invitation: Invitation = {
    id: newId("invitation"),
    orgId,
    email: input.email,
    emailNormalized,
    role: input.role,
    tokenHash: hash,
    invitedBy: actor.userId,
    createdAt: at,
    expiresAt: at + input.expires_in_days * DAY_MS,
    acceptedAt: null,
    acceptedBy: null,
    revokedAt: null,
  };
  const writes: BatchItem[] = [];
  for (const old of replaced) {
    const stillPending = and(eq(invitations.id, old.id), pending(at))!;
    writes.push(
      auditEntryWhen(
        db,
        actor.audit,
        {
          action: "invitation.revoked",
          resourceType: "invitation",
          resourceId: old.id,
          orgId,
          metadata: { email: input.email, reason: "replaced", replaced_by: invitation.id },
        },
        rowExists(db, stillPending),
        at,
      ),
      db.update(invitations).set({ revokedAt: at }).where(stillPending),
    );
  }
  const cap = limits.pendingInvitationsPerOrg;
  const pendingInOrg = db.select({ n: count() }).from(invitations).where(and(eq(invitations.orgId, orgId), pending(at)));
  const inserted = insertWhen(db, invitations, invitation, belowCap(pendingInOrg, cap));
  writes.push(
    inserted,
    auditEntryWhen(
      db,
      actor.audit,
      {
        action: "invitation.created",
        resourceType: "invitation",
        resourceId: invitation.id,
        orgId,
        metadata: {
          email: input.email,
          role: input.role,
          expires_at: toIso(invitation.expiresAt),
          replaced: replaced.map((r) => r.id),
        },
      },
      rowWritten(invitations.id, invitation.id),
      at,
    ),
  );
  // The mail's row is written in the same batch only if the invitation is, so a refused invite
  // never sends a link (and gives its throttle slot back below).
  const staged = mail ? [await stageInvitationMail(db, mail, invitation, token)] : [];
  for (const s of staged) if (s.ok) writes.push(s.insert);
  let results;
  try {
    results = await runBatch(db, writes);
  } catch (error) {
    if (mail) await unstageMail(mail.deps, staged);
    throw error;
  }
  // At the cap nothing was revoked either: a re-invite frees its own place before the count.
  if ((results[writes.indexOf(inserted)] as unknown[]).length === 0) {
    if (mail) await unstageMail(mail.deps, staged);
    throw capReached("pending invitations in this organization", cap, "LIMIT_PENDING_INVITATIONS_PER_ORG");
  }
  if (mail) await sendStaged(mail.deps, staged);
  return { invitation, token };
}

async function stageInvitationMail(db: Database, mail: { deps: MailDeps; publicUrl: string }, invitation: Invitation, token: string) {
  const org = await db.select({ name: organizations.name }).from(organizations).where(eq(organizations.id, invitation.orgId)).get();
  const link = acceptUrl(mail.publicUrl, token);
  const message = invitationEmail(invitation.email, org?.name ?? "an organization", invitation.role, link, toIso(invitation.expiresAt));
  return stageMail(mail.deps, message, invitation.createdAt, rowWritten(invitations.id, invitation.id));
}

export async function listPendingInvitations(db: Database, orgId: string, opts: { limit: number; cursor?: string }) {
  const rows = await db
    .select()
    .from(invitations)
    .where(and(eq(invitations.orgId, orgId), pending(nowMs()), afterCursor(opts.cursor, invitations.createdAt, invitations.id)))
    .orderBy(...newestFirst(invitations.createdAt, invitations.id))
    .limit(opts.limit + 1)
    .all();
  return page(rows, opts.limit);
}

/** Revokes an invitation; revoking one already revoked is a no-op, one already accepted is 409. */
export async function revokeInvitation(db: Database, actor: TeamActor, orgId: string, invitationId: string): Promise<void> {
  const load = () => db.select().from(invitations).where(and(eq(invitations.id, invitationId), eq(invitations.orgId, orgId))).get();
  const invitation = await load();
  if (!invitation) throw notFound("Invitation");
  assertMayManage(actor, invitation.role);
  if (invitation.acceptedAt !== null) throw conflict("This invitation was already accepted; remove the member instead.");
  if (invitation.revokedAt !== null) return;

  const at = nowMs();
  const condition = and(eq(invitations.id, invitationId), isNull(invitations.acceptedAt), isNull(invitations.revokedAt))!;
  const [, revoked] = await db.batch([
    auditEntryWhen(
      db,
      actor.audit,
      {
        action: "invitation.revoked",
        resourceType: "invitation",
        resourceId: invitationId,
        orgId,
        metadata: { email: invitation.email, role: invitation.role, reason: "revoked" },
      },
      rowExists(db, condition),
      at,
    ),
    db.update(invitations).set({ revokedAt: at }).where(condition).returning({ id: invitations.id }),
  ]);
  if (revoked.length === 0 && (await load())?.acceptedAt != null) {
    throw conflict("This invitation was already accepted; remove the member instead.");
  }
}

/** The specific reason an invitation cannot be accepted now, or null if it can. */
function refusal(invitation: Invitation, at: number) {
  if (invitation.acceptedAt !== null) return conflict("This invitation has already been used.");
  if (invitation.revokedAt !== null) return conflict("This invitation has been revoked; ask for a new one.");
  if (invitation.expiresAt <= at) return conflict("This invitation has expired; ask for a new one.");
  return null;
}

/**
 * Accepts by token for the signed-in user. Concurrent accepts of one token make exactly one
 * membership: the batch's three statements (membership insert, audit entry, marking the
 * invitation used) share one condition, "this invitation is still pending and addressed to this
 * user", evaluated inside D1's single-writer transaction, with the marking last. The first batch to
 * run makes it false for every later one, whose statements then all do nothing.
 */
export async function acceptInvitation(db: Database, audit: TeamActor["audit"], userId: string, token: string) {
  const row = await db
    .select({ invitation: invitations, org: organizations })
    .from(invitations)
    .innerJoin(organizations, eq(organizations.id, invitations.orgId))
    .where(and(eq(invitations.tokenHash, await hashInvitationToken(token)), isNull(organizations.deletedAt)))
    .get();
  if (!row) throw notFound("Invitation");
  const { invitation, org } = row;
  const user = await db.select().from(users).where(eq(users.id, userId)).get();
  // Wrong address comes first so that someone else's token tells them nothing about its state.
  if (!user || user.emailNormalized !== invitation.emailNormalized) {
    throw forbidden("This invitation was sent to a different email address; sign in with that address to accept it.");
  }
  if (user.emailVerifiedAt === null) {
    throw forbidden("Verify your email address before accepting an invitation: open the link Pulse emailed you (or ask for a new one).");
  }
  const at = nowMs();
  const refused = refusal(invitation, at);
  if (refused) throw refused;
  if (await findMember(db, org.id, userId)) throw conflict("You are already a member of this organization.");

  const acceptable = and(
    eq(invitations.id, invitation.id),
    eq(invitations.emailNormalized, user.emailNormalized),
    pending(at),
    exists(db.select({ one: organizations.id }).from(organizations).where(and(eq(organizations.id, invitation.orgId), isNull(organizations.deletedAt)))),
  )!;
  const actor = { ...audit, actorType: "user" as const, actorId: userId };
  let marked: { id: string }[];
  try {
    [, , marked] = await db.batch([
      // Columns in memberships' definition order: org_id, user_id, role, created_at, updated_at.
      db.insert(memberships).select(sql`SELECT ${invitations.orgId}, ${userId}, ${invitations.role}, ${at}, ${at} FROM ${invitations} WHERE ${acceptable}`),
      auditEntryWhen(
        db,
        actor,
        {
          action: "invitation.accepted",
          resourceType: "invitation",
          resourceId: invitation.id,
          orgId: invitation.orgId,
          metadata: { email: invitation.email, role: invitation.role, user_id: userId },
        },
        rowExists(db, acceptable),
        at,
      ),
      db.update(invitations).set({ acceptedAt: at, acceptedBy: userId }).where(acceptable).returning({ id: invitations.id }),
    ]);
  } catch (error) {
    // The membership's (org_id, user_id) key: joined meanwhile by another route. The batch rolled back.
    if (isUniqueViolation(error)) throw conflict("You are already a member of this organization.");
    throw error;
  }
  if (marked.length === 0) {
    const fresh = await db.select().from(invitations).where(eq(invitations.id, invitation.id)).get();
    throw (fresh && refusal(fresh, at)) ?? conflict("This invitation can no longer be accepted.");
  }
  const member = await findMember(db, org.id, userId);
  if (!member) throw conflict("This invitation can no longer be accepted.");
  return { org, member };
}
