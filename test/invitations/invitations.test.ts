import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { nowMs, setClock } from "../../src/lib/clock";
import { sha256Hex } from "../../src/lib/secrets";
import { call, expectEnvelope, freshIp } from "../support/api";
import { createOrg, createUser, type TestUser } from "../support/factories";
import { accept, auditActions, invitationRow, invite, joinOrg, membershipRows } from "../support/team";

const DAY = 86_400_000;

async function orgWithOwner() {
  const owner = await createUser();
  const org = await createOrg(owner);
  return { owner, org };
}

/** Everything that could be left behind by an accept: the invitee's membership, the invitation's state, audit rows. */
async function snapshot(orgId: string, invitationId: string) {
  const inv = await invitationRow(invitationId);
  return {
    members: await membershipRows(orgId),
    accepted_at: inv?.accepted_at ?? null,
    accepted_by: inv?.accepted_by ?? null,
    revoked_at: inv?.revoked_at ?? null,
    audit: (await auditActions(orgId, invitationId)).map((a) => a.action),
  };
}

const pendingList = (user: TestUser, orgId: string) => call("GET", `/v1/orgs/${orgId}/invitations`, { token: user.token });

describe("creating invitations", () => {
  it("returns the token once with an accept URL, stores only its SHA-256, and audits without it", async () => {
    const { owner, org } = await orgWithOwner();
    const before = nowMs();
    const res = await invite(owner, org.id, "New.Person@Example.com", "member");
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email: "New.Person@Example.com", role: "member", org_id: org.id, invited_by: owner.id });
    expect(res.body.id).toMatch(/^inv_/);
    const token: string = res.body.token;
    expect(token.length).toBeGreaterThan(30);
    expect(res.body.accept_url).toBe(`http://127.0.0.1:8787/invitations/accept#token=${token}`);
    // Default lifetime: 7 days.
    const expiresAt = Date.parse(res.body.expires_at);
    expect(Math.abs(expiresAt - (before + 7 * DAY))).toBeLessThan(5_000);

    const row = await invitationRow(res.body.id);
    expect(row!.token_hash).toBe(await sha256Hex(token));
    expect(row!.email_normalized).toBe("new.person@example.com");
    const dump = JSON.stringify(await env.DB.prepare("SELECT * FROM invitations WHERE id = ?").bind(res.body.id).all());
    expect(dump).not.toContain(token);
    const audit = await env.DB.prepare("SELECT * FROM audit_logs WHERE resource_id = ?").bind(res.body.id).all();
    expect(audit.results.map((a: any) => a.action)).toEqual(["invitation.created"]);
    expect(JSON.stringify(audit.results)).not.toContain(token);

    // Lists never show the token again.
    const list = await pendingList(owner, org.id);
    expect(list.body.data.map((i: any) => i.id)).toEqual([res.body.id]);
    expect(list.text).not.toContain(token);
    expect(list.body.data[0].token).toBeUndefined();
  });

  it("takes expires_in_days from 1 to 30 and rejects anything else", async () => {
    const { owner, org } = await orgWithOwner();
    const at = Date.parse("2026-11-28T12:00:00Z");
    setClock(() => at);
    const one = await invite(owner, org.id, "a@example.com", "viewer", { expires_in_days: 1 });
    expect(one.body.expires_at).toBe("2026-11-29T12:00:00Z");
    const thirty = await invite(owner, org.id, "b@example.com", "viewer", { expires_in_days: 30 });
    expect(thirty.body.expires_at).toBe("2026-12-28T12:00:00Z");
    for (const bad of [0, 31, 1.5, "7", -1]) {
      const res = await invite(owner, org.id, "c@example.com", "viewer", { expires_in_days: bad });
      expect(expectEnvelope(res, 400, "validation_failed").details?.[0]?.path).toBe("expires_in_days");
    }
    expectEnvelope(await invite(owner, org.id, "not-an-email", "viewer"), 400, "validation_failed");
    expectEnvelope(await invite(owner, org.id, "d@example.com", "root"), 400, "validation_failed");
    expectEnvelope(await invite(owner, org.id, "d@example.com", "viewer", { note: "hi" }), 400, "validation_failed");
  });

  it("lets only owners invite owners; admins invite up to admin", async () => {
    const { owner, org } = await orgWithOwner();
    const admin = await joinOrg(owner, org.id, "admin");
    expectEnvelope(await invite(admin, org.id, "boss@example.com", "owner"), 403, "forbidden");
    expect((await invite(admin, org.id, "peer@example.com", "admin")).status).toBe(201);
    expect((await invite(owner, org.id, "boss@example.com", "owner")).status).toBe(201);
    const member = await joinOrg(owner, org.id, "member");
    expectEnvelope(await invite(member, org.id, "x@example.com", "viewer"), 403, "forbidden");
  });

  it("refuses inviting someone who is already a member (whatever the case of the address)", async () => {
    const { owner, org } = await orgWithOwner();
    const member = await joinOrg(owner, org.id, "member");
    expectEnvelope(await invite(owner, org.id, member.email.toUpperCase(), "admin"), 409, "conflict");
    expectEnvelope(await invite(owner, org.id, owner.email, "admin"), 409, "conflict");
  });

  it("replaces the pending invitation when the same address is invited again", async () => {
    const { owner, org } = await orgWithOwner();
    const invitee = await createUser({ email: `again-${crypto.randomUUID()}@example.com` });
    const first = await invite(owner, org.id, invitee.email, "viewer");
    const second = await invite(owner, org.id, invitee.email.toUpperCase(), "admin");
    expect(second.status).toBe(201);
    const list = await pendingList(owner, org.id);
    expect(list.body.data.map((i: any) => i.id)).toEqual([second.body.id]);
    expect((await invitationRow(first.body.id))!.revoked_at).not.toBeNull();
    expect((await auditActions(org.id, first.body.id)).map((a) => a.action)).toEqual(["invitation.created", "invitation.revoked"]);

    const old = await accept(invitee, first.body.token);
    expect(expectEnvelope(old, 409, "conflict").message).toMatch(/revoked/);
    const ok = await accept(invitee, second.body.token);
    expect(ok.status).toBe(200);
    expect(ok.body.member.role).toBe("admin");
  });
});

describe("listing and revoking", () => {
  it("lists only pending invitations: not accepted, revoked or expired", async () => {
    const { owner, org } = await orgWithOwner();
    const invitee = await createUser();
    const accepted = await invite(owner, org.id, invitee.email, "member");
    expect((await accept(invitee, accepted.body.token)).status).toBe(200);
    const revoked = await invite(owner, org.id, "revoked@example.com", "member");
    expect((await call("DELETE", `/v1/orgs/${org.id}/invitations/${revoked.body.id}`, { token: owner.token })).status).toBe(204);
    const short = await invite(owner, org.id, "short@example.com", "member", { expires_in_days: 1 });
    const live = await invite(owner, org.id, "live@example.com", "member", { expires_in_days: 3 });

    const now = (await pendingList(owner, org.id)).body.data.map((i: any) => i.id);
    expect(now).toEqual([live.body.id, short.body.id]);
    const start = nowMs();
    setClock(() => start + 2 * DAY);
    expect((await pendingList(owner, org.id)).body.data.map((i: any) => i.id)).toEqual([live.body.id]);
  });

  it("revokes: the token stops working, a second revoke is a no-op, and it is audited once", async () => {
    const { owner, org } = await orgWithOwner();
    const admin = await joinOrg(owner, org.id, "admin");
    const invitee = await createUser();
    const inv = await invite(owner, org.id, invitee.email, "member");
    const path = `/v1/orgs/${org.id}/invitations/${inv.body.id}`;
    expectEnvelope(await call("DELETE", path, { token: (await joinOrg(owner, org.id, "member")).token }), 403, "forbidden");
    expect((await call("DELETE", path, { token: admin.token })).status).toBe(204);
    expect((await call("DELETE", path, { token: admin.token })).status).toBe(204);
    expect((await auditActions(org.id, inv.body.id)).map((a) => a.action)).toEqual(["invitation.created", "invitation.revoked"]);
    const before = await snapshot(org.id, inv.body.id);
    expect(expectEnvelope(await accept(invitee, inv.body.token), 409, "conflict").message).toMatch(/revoked/);
    expect(await snapshot(org.id, inv.body.id)).toEqual(before);
  });

  it("refuses revoking an accepted invitation, and admins revoking an owner invitation", async () => {
    const { owner, org } = await orgWithOwner();
    const admin = await joinOrg(owner, org.id, "admin");
    const invitee = await createUser();
    const inv = await invite(owner, org.id, invitee.email, "member");
    await accept(invitee, inv.body.token);
    expectEnvelope(await call("DELETE", `/v1/orgs/${org.id}/invitations/${inv.body.id}`, { token: owner.token }), 409, "conflict");
    const ownerInv = await invite(owner, org.id, "co-owner@example.com", "owner");
    expectEnvelope(await call("DELETE", `/v1/orgs/${org.id}/invitations/${ownerInv.body.id}`, { token: admin.token }), 403, "forbidden");
    expect((await invitationRow(ownerInv.body.id))!.revoked_at).toBeNull();
  });

  it("answers 404 for an invitation of another org, even to an owner", async () => {
    const { owner, org } = await orgWithOwner();
    const other = await orgWithOwner();
    const foreign = await invite(other.owner, other.org.id, "x@example.com", "member");
    expectEnvelope(await call("DELETE", `/v1/orgs/${org.id}/invitations/${foreign.body.id}`, { token: owner.token }), 404, "not_found");
    expect((await invitationRow(foreign.body.id))!.revoked_at).toBeNull();
  });
});

describe("accepting", () => {
  it("joins the signed-in user whose email matches case-insensitively, with the invited role, once", async () => {
    const { owner, org } = await orgWithOwner();
    const invitee = await createUser({ email: `Mixed.Case-${crypto.randomUUID()}@Example.com` });
    const inv = await invite(owner, org.id, invitee.email.toLowerCase(), "admin");
    const res = await accept(invitee, inv.body.token);
    expect(res.status).toBe(200);
    expect(res.body.organization).toMatchObject({ id: org.id, role: "admin" });
    expect(res.body.member).toMatchObject({ user_id: invitee.id, role: "admin", email: invitee.email });
    expect((await membershipRows(org.id)).find((m) => m.user_id === invitee.id)?.role).toBe("admin");
    const row = await invitationRow(inv.body.id);
    expect(row!.accepted_by).toBe(invitee.id);
    const audit = await auditActions(org.id, inv.body.id);
    expect(audit.map((a) => a.action)).toEqual(["invitation.created", "invitation.accepted"]);
    expect(audit[1]!.actor_id).toBe(invitee.id);
    expect(audit[1]!.metadata).not.toContain(inv.body.token);
    // The new member can use the org straight away.
    expect((await call("GET", `/v1/orgs/${org.id}/members`, { token: invitee.token })).status).toBe(200);

    const before = await snapshot(org.id, inv.body.id);
    expect(expectEnvelope(await accept(invitee, inv.body.token), 409, "conflict").message).toMatch(/already been used/);
    expect(await snapshot(org.id, inv.body.id)).toEqual(before);
  });

  it("refuses an expired invitation and changes nothing", async () => {
    const { owner, org } = await orgWithOwner();
    const invitee = await createUser();
    const inv = await invite(owner, org.id, invitee.email, "member", { expires_in_days: 2 });
    const before = await snapshot(org.id, inv.body.id);
    // The stored expiry is in milliseconds (the API shows whole seconds).
    const expiry = Number((await invitationRow(inv.body.id))!.expires_at);
    expect(Math.floor(expiry / 1000) * 1000).toBe(Date.parse(inv.body.expires_at));
    setClock(() => expiry);
    expect(expectEnvelope(await accept(invitee, inv.body.token), 409, "conflict").message).toMatch(/expired/);
    expect(await snapshot(org.id, inv.body.id)).toEqual(before);
    // One millisecond earlier it still works.
    setClock(() => expiry - 1);
    expect((await accept(invitee, inv.body.token)).status).toBe(200);
  });

  it("refuses a user with another email and changes nothing", async () => {
    const { owner, org } = await orgWithOwner();
    const invitee = await createUser();
    const intruder = await createUser();
    const inv = await invite(owner, org.id, invitee.email, "admin");
    const before = await snapshot(org.id, inv.body.id);
    const err = expectEnvelope(await accept(intruder, inv.body.token), 403, "forbidden");
    expect(err.message).not.toContain(invitee.email);
    expect(await snapshot(org.id, inv.body.id)).toEqual(before);
    expect((await membershipRows(org.id)).some((m) => m.user_id === intruder.id)).toBe(false);
  });

  it("answers 404 for an unknown token and 409 when the user is already a member", async () => {
    const { owner, org } = await orgWithOwner();
    const invitee = await createUser();
    expectEnvelope(await accept(invitee, "inv_tok_not-a-real-token"), 404, "not_found");
    // A member who left gets a fresh invitation... but while still a member, accepting is a conflict.
    const member = await joinOrg(owner, org.id, "viewer");
    await env.DB.prepare(
      "INSERT INTO invitations (id, org_id, email, email_normalized, role, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, 'admin', ?, ?, ?)",
    )
      .bind("inv_legacyduplicate", org.id, member.email, member.email.toLowerCase(), await sha256Hex("inv_tok_legacy"), nowMs(), nowMs() + DAY)
      .run();
    const before = await snapshot(org.id, "inv_legacyduplicate");
    expect(expectEnvelope(await accept(member, "inv_tok_legacy"), 409, "conflict").message).toMatch(/already a member/);
    expect(await snapshot(org.id, "inv_legacyduplicate")).toEqual(before);
    expect((await membershipRows(org.id)).find((m) => m.user_id === member.id)?.role).toBe("viewer");
  });

  it("creates exactly one membership when one token is accepted many times at once", async () => {
    const { owner, org } = await orgWithOwner();
    const invitee = await createUser();
    const inv = await invite(owner, org.id, invitee.email, "member");
    const results = await Promise.all(Array.from({ length: 8 }, () => accept(invitee, inv.body.token)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(7);
    expect((await membershipRows(org.id)).filter((m) => m.user_id === invitee.id)).toHaveLength(1);
    expect((await auditActions(org.id, inv.body.id)).map((a) => a.action)).toEqual(["invitation.created", "invitation.accepted"]);
  });

  it("is rate limited per IP before authentication, like login", async () => {
    const res = await call("POST", "/v1/invitations/accept", { body: { token: "inv_tok_x" }, ip: freshIp() });
    expectEnvelope(res, 401, "unauthenticated");
    expect(res.headers.get("RateLimit-Policy")).toMatch(/^"ip";q=\d+;w=60$/);
    expect(res.headers.get("RateLimit")).toMatch(/^"ip";r=\d+;t=\d+$/);
  });

  it("answers 429 to a client past the per-IP limit even without a session, so tokens cannot be brute-forced", async () => {
    const ip = `198.18.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const limit = 100; // RATE_LIMIT_IP_PER_MIN default
    for (let i = 0; i < limit; i++) {
      const res = await call("POST", "/v1/invitations/accept", { body: { token: `inv_tok_guess${i}` }, ip });
      if (res.status !== 401) throw new Error(`request ${i}: expected 401, got ${res.status}`);
    }
    const limited = await call("POST", "/v1/invitations/accept", { body: { token: "inv_tok_guess" }, ip });
    expectEnvelope(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    // The same client with a valid session is limited too: the limit comes before authentication.
    const user = await createUser();
    expectEnvelope(await call("POST", "/v1/invitations/accept", { token: user.token, body: { token: "inv_tok_guess" }, ip }), 429, "rate_limited");
  });

  it("stops working once the org is deleted", async () => {
    const { owner, org } = await orgWithOwner();
    const invitee = await createUser();
    const inv = await invite(owner, org.id, invitee.email, "member");
    expect((await call("DELETE", `/v1/orgs/${org.id}`, { token: owner.token })).status).toBe(204);
    expectEnvelope(await accept(invitee, inv.body.token), 404, "not_found");
    expect((await membershipRows(org.id)).some((m) => m.user_id === invitee.id)).toBe(false);
  });
});
