/**
 * Deterministic races: the check-then-write gap is forced open by running a competing change just
 * before the guarded batch reaches D1. If the guard in the write's WHERE clause were missing, these
 * writes would act on stale checks.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AuditActor } from "../../src/audit/record";
import { createDb, type Database } from "../../src/db/client";
import { ApiError } from "../../src/lib/errors";
import { acceptInvitation } from "../../src/invitations/service";
import { changeMemberRole, removeMember } from "../../src/members/service";
import { call } from "../support/api";
import { createOrg, createUser } from "../support/factories";
import { accept, auditActions, invite, joinOrg, membershipRows, ownerCount } from "../support/team";

/** A database whose next batch first lets `competitor` run to completion. */
function withCompetitor(competitor: () => Promise<unknown>): Database {
  const db = createDb(env.DB);
  let pending: (() => Promise<unknown>) | null = competitor;
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === "batch") {
        return async (items: Parameters<Database["batch"]>[0]) => {
          const run = pending;
          pending = null;
          if (run) await run();
          return target.batch(items);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

const actorAudit = (userId: string): AuditActor => ({ actorType: "user", actorId: userId, ip: null, userAgent: null, requestId: null });

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected the change to be refused");
}

describe("guarded writes under a forced race", () => {
  it("refuses to demote an owner when the actor lost the owner role after the check", async () => {
    const a = await createUser();
    const org = await createOrg(a);
    const b = await joinOrg(a, org.id, "owner");
    // a decided as an owner; b demotes a before a's write lands.
    const db = withCompetitor(async () => {
      const res = await call("PATCH", `/v1/orgs/${org.id}/members/${a.id}`, { token: b.token, body: { role: "admin" } });
      expect(res.status).toBe(200);
    });
    const error = await refusal(changeMemberRole(db, { userId: a.id, role: "owner", audit: actorAudit(a.id) }, org.id, b.id, "admin"));
    expect(error.code).toBe("forbidden");
    const rows = await membershipRows(org.id);
    expect(rows.find((m) => m.user_id === b.id)?.role).toBe("owner");
    expect(await ownerCount(org.id)).toBe(1);
    expect(await auditActions(org.id, b.id)).toEqual([]);
  });

  it("refuses to let an owner leave when the other owner left after the check", async () => {
    const a = await createUser();
    const org = await createOrg(a);
    const b = await joinOrg(a, org.id, "owner");
    const db = withCompetitor(async () => {
      expect((await call("DELETE", `/v1/orgs/${org.id}/members/${b.id}`, { token: b.token })).status).toBe(204);
    });
    const error = await refusal(removeMember(db, { userId: a.id, role: "owner", audit: actorAudit(a.id) }, org.id, a.id));
    expect(error.code).toBe("conflict");
    expect(await membershipRows(org.id)).toEqual([{ user_id: a.id, role: "owner" }]);
    expect((await auditActions(org.id, a.id)).map((e) => e.action)).toEqual([]);
  });

  it("refuses to change a member whose role changed after the check (an admin never ends up touching an owner)", async () => {
    const owner = await createUser();
    const org = await createOrg(owner);
    const admin = await joinOrg(owner, org.id, "admin");
    const target = await joinOrg(owner, org.id, "member");
    const db = withCompetitor(async () => {
      const res = await call("PATCH", `/v1/orgs/${org.id}/members/${target.id}`, { token: owner.token, body: { role: "owner" } });
      expect(res.status).toBe(200);
    });
    const error = await refusal(removeMember(db, { userId: admin.id, role: "admin", audit: actorAudit(admin.id) }, org.id, target.id));
    expect(error.code).toBe("forbidden");
    expect((await membershipRows(org.id)).find((m) => m.user_id === target.id)?.role).toBe("owner");
    expect((await auditActions(org.id, target.id)).map((e) => e.action)).toEqual(["member.role_changed"]);
  });

  it("accepts an invitation once even when a second accept passed every check before the first landed", async () => {
    const owner = await createUser();
    const org = await createOrg(owner);
    const invitee = await createUser();
    const inv = await invite(owner, org.id, invitee.email, "member");
    const db = withCompetitor(async () => {
      expect((await accept(invitee, inv.body.token)).status).toBe(200);
    });
    const error = await refusal(acceptInvitation(db, actorAudit(invitee.id), invitee.id, inv.body.token));
    expect(error.code).toBe("conflict");
    expect(error.message).toMatch(/already been used/);
    expect((await membershipRows(org.id)).filter((m) => m.user_id === invitee.id)).toHaveLength(1);
    expect((await auditActions(org.id, inv.body.id)).map((e) => e.action)).toEqual(["invitation.created", "invitation.accepted"]);
  });
});
