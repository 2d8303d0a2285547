/**
 * Re-inviting an address replaces its pending invitation, which revokes the old one: the caller
 * must be allowed to manage the old invitation's role as well as the new one's.
 */
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createOrg, createUser } from "../support/factories";
import { auditActions, invitationRow, invite, joinOrg } from "../support/team";

describe("re-inviting an address", () => {
  it("refuses an admin who re-invites an address with a pending owner invitation: the owner invitation is not cancelled", async () => {
    const owner = await createUser();
    const org = await createOrg(owner);
    const admin = await joinOrg(owner, org.id, "admin");
    const ownerInvite = await invite(owner, org.id, "future-owner@example.com", "owner");
    expect(ownerInvite.status).toBe(201);

    const error = expectEnvelope(await invite(admin, org.id, "Future-Owner@example.com", "viewer"), 403, "forbidden");
    expect(error.message).toMatch(/owner/i);
    expect(await invitationRow(ownerInvite.body.id)).toMatchObject({ role: "owner", revoked_at: null, accepted_at: null });
    expect((await auditActions(org.id, ownerInvite.body.id)).map((a) => a.action)).toEqual(["invitation.created"]);
    const pending = await call("GET", `/v1/orgs/${org.id}/invitations`, { token: owner.token });
    expect(pending.body.data.map((i: { id: string }) => i.id)).toEqual([ownerInvite.body.id]);
  });

  it("lets an admin replace an invitation it may manage, and an owner replace an owner invitation", async () => {
    const owner = await createUser();
    const org = await createOrg(owner);
    const admin = await joinOrg(owner, org.id, "admin");
    const first = await invite(admin, org.id, "someone@example.com", "member");
    const second = await invite(admin, org.id, "someone@example.com", "viewer");
    expect(second.status).toBe(201);
    expect((await invitationRow(first.body.id))!.revoked_at).not.toBeNull();

    const ownerInvite = await invite(owner, org.id, "boss@example.com", "owner");
    const replaced = await invite(owner, org.id, "boss@example.com", "admin");
    expect(replaced.status).toBe(201);
    expect((await invitationRow(ownerInvite.body.id))!.revoked_at).not.toBeNull();
    expect((await auditActions(org.id, ownerInvite.body.id)).map((a) => a.action)).toEqual(["invitation.created", "invitation.revoked"]);
  });
});
