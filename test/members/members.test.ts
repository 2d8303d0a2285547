import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createOrg, createUser, type TestUser } from "../support/factories";
import { auditActions, joinOrg, membershipRows, ownerCount, type Role } from "../support/team";

async function team() {
  const owner = await createUser({ name: "Ada <Owner> 🚀" });
  const org = await createOrg(owner);
  const admin = await joinOrg(owner, org.id, "admin");
  const member = await joinOrg(owner, org.id, "member");
  const viewer = await joinOrg(owner, org.id, "viewer");
  return { owner, org, admin, member, viewer };
}

const patchRole = (by: TestUser, orgId: string, userId: string, role: Role | string) =>
  call("PATCH", `/v1/orgs/${orgId}/members/${userId}`, { token: by.token, body: { role } });
const remove = (by: TestUser, orgId: string, userId: string) => call("DELETE", `/v1/orgs/${orgId}/members/${userId}`, { token: by.token });

describe("listing members", () => {
  it("shows each member's name byte for byte, email, role and joined time, newest first", async () => {
    const { owner, org, admin, member, viewer } = await team();
    const res = await call("GET", `/v1/orgs/${org.id}/members`, { token: viewer.token });
    expect(res.status).toBe(200);
    expect(res.body.next_cursor).toBeNull();
    const byId = Object.fromEntries(res.body.data.map((m: any) => [m.user_id, m]));
    expect(Object.keys(byId).sort()).toEqual([owner.id, admin.id, member.id, viewer.id].sort());
    expect(byId[owner.id]).toMatchObject({ name: "Ada <Owner> 🚀", email: owner.email, role: "owner" });
    expect(byId[admin.id].role).toBe("admin");
    expect(byId[viewer.id].joined_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const joined = res.body.data.map((m: any) => m.joined_at);
    expect([...joined].sort().reverse()).toEqual(joined);
  });

  it("pages with a cursor without repeating or skipping anyone", async () => {
    const { org, viewer } = await team();
    const first = await call("GET", `/v1/orgs/${org.id}/members?limit=3`, { token: viewer.token });
    expect(first.body.data).toHaveLength(3);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await call("GET", `/v1/orgs/${org.id}/members?limit=3&cursor=${first.body.next_cursor}`, { token: viewer.token });
    expect(second.body.data).toHaveLength(1);
    expect(second.body.next_cursor).toBeNull();
    const ids = [...first.body.data, ...second.body.data].map((m: any) => m.user_id);
    expect(new Set(ids).size).toBe(4);
    expectEnvelope(await call("GET", `/v1/orgs/${org.id}/members?limit=101`, { token: viewer.token }), 400, "validation_failed");
  });
});

describe("changing roles", () => {
  it("lets an admin change members up to admin and audits the change", async () => {
    const { org, admin, viewer } = await team();
    const res = await patchRole(admin, org.id, viewer.id, "admin");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ user_id: viewer.id, role: "admin", email: viewer.email });
    expect((await membershipRows(org.id)).find((m) => m.user_id === viewer.id)?.role).toBe("admin");
    const audit = await auditActions(org.id, viewer.id);
    expect(audit.map((a) => a.action)).toEqual(["member.role_changed"]);
    expect(audit[0]!.actor_id).toBe(admin.id);
    expect(JSON.parse(audit[0]!.metadata)).toMatchObject({ from: "viewer", to: "admin" });
  });

  it("refuses an admin raising anyone to owner, and changes nothing", async () => {
    const { org, admin, member } = await team();
    expectEnvelope(await patchRole(admin, org.id, member.id, "owner"), 403, "forbidden");
    expectEnvelope(await patchRole(admin, org.id, admin.id, "owner"), 403, "forbidden");
    const rows = await membershipRows(org.id);
    expect(rows.find((m) => m.user_id === member.id)?.role).toBe("member");
    expect(rows.find((m) => m.user_id === admin.id)?.role).toBe("admin");
    expect(await auditActions(org.id, member.id)).toEqual([]);
  });

  it("refuses an admin demoting or removing an owner", async () => {
    const { owner, org, admin } = await team();
    const second = await joinOrg(owner, org.id, "owner");
    expectEnvelope(await patchRole(admin, org.id, second.id, "viewer"), 403, "forbidden");
    expectEnvelope(await remove(admin, org.id, second.id), 403, "forbidden");
    expect(await ownerCount(org.id)).toBe(2);
  });

  it("refuses members and viewers changing roles, including their own", async () => {
    const { org, admin, member, viewer } = await team();
    expectEnvelope(await patchRole(member, org.id, viewer.id, "member"), 403, "forbidden");
    expectEnvelope(await patchRole(viewer, org.id, viewer.id, "member"), 403, "forbidden");
    expectEnvelope(await patchRole(member, org.id, admin.id, "viewer"), 403, "forbidden");
  });

  it("rejects unknown roles, unknown fields and users who are not members", async () => {
    const { owner, org, member } = await team();
    expectEnvelope(await patchRole(owner, org.id, member.id, "superuser"), 400, "validation_failed");
    expectEnvelope(
      await call("PATCH", `/v1/orgs/${org.id}/members/${member.id}`, { token: owner.token, body: { role: "viewer", admin: true } }),
      400,
      "validation_failed",
    );
    const stranger = await createUser();
    expectEnvelope(await patchRole(owner, org.id, stranger.id, "viewer"), 404, "not_found");
    expectEnvelope(await patchRole(owner, org.id, "usr_doesnotexist", "viewer"), 404, "not_found");
  });

  it("treats setting the current role as a no-op that writes no audit entry", async () => {
    const { owner, org, member } = await team();
    const res = await patchRole(owner, org.id, member.id, "member");
    expect(res.status).toBe(200);
    expect(res.body.role).toBe("member");
    expect(await auditActions(org.id, member.id)).toEqual([]);
  });
});

describe("the last owner", () => {
  it("cannot demote themself", async () => {
    const { owner, org } = await team();
    const err = expectEnvelope(await patchRole(owner, org.id, owner.id, "admin"), 409, "conflict");
    expect(err.message).toMatch(/owner/);
    expect(await ownerCount(org.id)).toBe(1);
    expect(await auditActions(org.id, owner.id)).toEqual([]);
  });

  it("cannot leave", async () => {
    const { owner, org } = await team();
    expectEnvelope(await remove(owner, org.id, owner.id), 409, "conflict");
    expect((await membershipRows(org.id)).some((m) => m.user_id === owner.id && m.role === "owner")).toBe(true);
    expect(await auditActions(org.id, owner.id)).toEqual([]);
  });

  it("cannot be removed, even by another owner who has just stepped down", async () => {
    const { owner, org } = await team();
    const second = await joinOrg(owner, org.id, "owner");
    // second steps down to admin; owner is now the last owner and admins cannot touch owners anyway.
    expect((await patchRole(second, org.id, second.id, "admin")).status).toBe(200);
    expectEnvelope(await remove(second, org.id, owner.id), 403, "forbidden");
    // An owner removing the only other owner is fine while one owner remains; the last one is protected.
    const third = await joinOrg(owner, org.id, "owner");
    expect((await remove(third, org.id, owner.id)).status).toBe(204);
    expectEnvelope(await remove(third, org.id, third.id), 409, "conflict");
    expect(await ownerCount(org.id)).toBe(1);
  });

  it("survives two owners demoting each other at the same moment: exactly one change wins", async () => {
    const { owner, org } = await team();
    const second = await joinOrg(owner, org.id, "owner");
    const [a, b] = await Promise.all([patchRole(owner, org.id, second.id, "admin"), patchRole(second, org.id, owner.id, "admin")]);
    // The loser is refused either as the last owner (409) or, once demoted, for lacking the owner role (403).
    const statuses = [a.status, b.status].sort();
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    expect(await ownerCount(org.id)).toBe(1);
    const changes = [...(await auditActions(org.id, owner.id)), ...(await auditActions(org.id, second.id))];
    expect(changes.filter((e) => e.action === "member.role_changed")).toHaveLength(1);
  });

  it("survives both owners leaving at the same moment: one leaves, one stays", async () => {
    const { owner, org } = await team();
    const second = await joinOrg(owner, org.id, "owner");
    const results = await Promise.all([remove(owner, org.id, owner.id), remove(second, org.id, second.id)]);
    expect(results.map((r) => r.status).sort()).toEqual([204, 409]);
    expect(await ownerCount(org.id)).toBe(1);
  });
});

describe("owner transfer", () => {
  it("promotes another member to owner, then the original owner steps down and leaves", async () => {
    const { owner, org, admin } = await team();
    expectEnvelope(await patchRole(admin, org.id, admin.id, "owner"), 403, "forbidden");
    expect((await patchRole(owner, org.id, admin.id, "owner")).status).toBe(200);
    const down = await patchRole(owner, org.id, owner.id, "admin");
    expect(down.status).toBe(200);
    expect(down.body.role).toBe("admin");
    // The former owner no longer touches owners.
    expectEnvelope(await patchRole(owner, org.id, admin.id, "admin"), 403, "forbidden");
    expect((await remove(owner, org.id, owner.id)).status).toBe(204);
    const rows = await membershipRows(org.id);
    expect(rows.find((m) => m.user_id === admin.id)?.role).toBe("owner");
    expect(rows.some((m) => m.user_id === owner.id)).toBe(false);
    expect((await auditActions(org.id, owner.id)).map((a) => a.action)).toEqual(["member.role_changed", "member.left"]);
    expect((await auditActions(org.id, admin.id)).map((a) => a.action)).toContain("member.role_changed");
  });
});

describe("removing and leaving", () => {
  it("lets any member leave, auditing it as member.left", async () => {
    const { org, viewer } = await team();
    expect((await remove(viewer, org.id, viewer.id)).status).toBe(204);
    expect((await membershipRows(org.id)).some((m) => m.user_id === viewer.id)).toBe(false);
    const audit = await auditActions(org.id, viewer.id);
    expect(audit.map((a) => a.action)).toEqual(["member.left"]);
    expect(audit[0]!.actor_id).toBe(viewer.id);
  });

  it("lets an admin remove a member, auditing it as member.removed", async () => {
    const { org, admin, member } = await team();
    expect((await remove(admin, org.id, member.id)).status).toBe(204);
    const audit = await auditActions(org.id, member.id);
    expect(audit.map((a) => a.action)).toEqual(["member.removed"]);
    expect(audit[0]!.actor_id).toBe(admin.id);
  });

  it("refuses members and viewers removing others", async () => {
    const { org, member, viewer } = await team();
    expectEnvelope(await remove(member, org.id, viewer.id), 403, "forbidden");
    expectEnvelope(await remove(viewer, org.id, member.id), 403, "forbidden");
    expect(await membershipRows(org.id)).toHaveLength(4);
  });

  it("ends the removed user's access to the org at once, though their session still works elsewhere", async () => {
    const { owner, org, member } = await team();
    const project = await call("POST", `/v1/orgs/${org.id}/projects`, { token: owner.token, body: { name: "P" } });
    expect((await call("GET", `/v1/orgs/${org.id}`, { token: member.token })).status).toBe(200);
    expect((await call("GET", `/v1/projects/${project.body.id}`, { token: member.token })).status).toBe(200);

    expect((await remove(owner, org.id, member.id)).status).toBe(204);

    expectEnvelope(await call("GET", `/v1/orgs/${org.id}`, { token: member.token }), 404, "not_found");
    expectEnvelope(await call("GET", `/v1/orgs/${org.id}/members`, { token: member.token }), 404, "not_found");
    expectEnvelope(await call("GET", `/v1/projects/${project.body.id}`, { token: member.token }), 404, "not_found");
    const me = await call("GET", "/v1/me", { token: member.token });
    expect(me.status).toBe(200);
    expect(me.body.organizations.map((o: any) => o.id)).not.toContain(org.id);
  });

  it("answers 404 to someone outside the org, whatever they try", async () => {
    const { org, member } = await team();
    const outsider = await createUser();
    await createOrg(outsider);
    expectEnvelope(await remove(outsider, org.id, member.id), 404, "not_found");
    expectEnvelope(await remove(outsider, org.id, outsider.id), 404, "not_found");
    expectEnvelope(await patchRole(outsider, org.id, member.id, "viewer"), 404, "not_found");
    expect(await membershipRows(org.id)).toHaveLength(4);
  });

  it("requires a session", async () => {
    const { org, member } = await team();
    expectEnvelope(await call("DELETE", `/v1/orgs/${org.id}/members/${member.id}`), 401, "unauthenticated");
  });
});

describe("the OpenAPI document", () => {
  it("describes every team and invitation route", async () => {
    const doc = await call("GET", "/v1/openapi.json");
    expect(doc.status).toBe(200);
    const paths = doc.body.paths;
    expect(Object.keys(paths["/v1/orgs/{org_id}/members"])).toEqual(["get"]);
    expect(Object.keys(paths["/v1/orgs/{org_id}/members/{user_id}"]).sort()).toEqual(["delete", "patch"]);
    expect(Object.keys(paths["/v1/orgs/{org_id}/invitations"]).sort()).toEqual(["get", "post"]);
    expect(Object.keys(paths["/v1/orgs/{org_id}/invitations/{inv_id}"])).toEqual(["delete"]);
    expect(Object.keys(paths["/v1/invitations/accept"])).toEqual(["post"]);
  });
});
