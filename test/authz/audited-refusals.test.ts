/**
 * What owners can read afterwards in their audit log: members minting room tokens from the
 * dashboard, and every refused (403) attempt on the org's resources, bounded per actor.
 */
import { describe, expect, it } from "vitest";
import { DENIALS_PER_ACTOR_PER_MINUTE } from "../../src/audit/denied";
import { call, expectEnvelope } from "../support/api";
import { rows } from "../support/db";
import { createTenant } from "../support/factories";
import { joinOrg } from "../support/team";

interface AuditRow {
  action: string;
  actor_type: string;
  actor_id: string;
  project_id: string | null;
  resource_id: string | null;
  metadata: string;
}

/** The org's entries with `action`, waiting briefly for writes made after the answer. */
async function entries(orgId: string, action: string, atLeast = 1): Promise<AuditRow[]> {
  for (let i = 0; ; i++) {
    const found = await rows<AuditRow>("SELECT * FROM audit_logs WHERE org_id = ? AND action = ? ORDER BY created_at, id", orgId, action);
    if (found.length >= atLeast || i >= 40) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("refused attempts", () => {
  it("audits a viewer's attempt to create an API key as access.denied with the route and actor", async () => {
    const { user: owner, org, project } = await createTenant();
    const viewer = await joinOrg(owner, org.id, "viewer");
    expectEnvelope(await call("POST", `/v1/projects/${project.id}/keys`, { token: viewer.token, body: { name: "sneaky" } }), 403, "forbidden");
    const [denied] = await entries(org.id, "access.denied");
    expect(denied).toMatchObject({ actor_type: "user", actor_id: viewer.id, project_id: project.id, resource_id: project.id });
    expect(JSON.parse(denied!.metadata)).toEqual({ route: "/v1/projects/:project_id/keys", method: "POST", permission: "key:write" });
  });

  it("audits a member's refused org-level change", async () => {
    const { user: owner, org } = await createTenant();
    const member = await joinOrg(owner, org.id, "member");
    expectEnvelope(await call("PATCH", `/v1/orgs/${org.id}`, { token: member.token, body: { name: "Mine now" } }), 403, "forbidden");
    const [denied] = await entries(org.id, "access.denied");
    expect(denied).toMatchObject({ actor_id: member.id, project_id: null, resource_id: org.id });
    expect(JSON.parse(denied!.metadata).route).toBe("/v1/orgs/:org_id");
  });

  it("cannot be used to flood the audit log: a burst of refusals records a bounded number", async () => {
    const { user: owner, org, project } = await createTenant();
    const viewer = await joinOrg(owner, org.id, "viewer");
    const burst = DENIALS_PER_ACTOR_PER_MINUTE + 15;
    for (let i = 0; i < burst; i++) {
      expect((await call("POST", `/v1/projects/${project.id}/keys`, { token: viewer.token, body: { name: `k${i}` } })).status).toBe(403);
    }
    const recorded = await entries(org.id, "access.denied", DENIALS_PER_ACTOR_PER_MINUTE);
    await new Promise((r) => setTimeout(r, 200));
    const after = await entries(org.id, "access.denied", burst);
    expect(recorded.length).toBeGreaterThan(0);
    expect(after.length).toBeLessThanOrEqual(DENIALS_PER_ACTOR_PER_MINUTE);
  });

  it("does not record a stranger's 404 in the org it cannot see", async () => {
    const { org, project } = await createTenant();
    const { user: stranger } = await createTenant();
    expectEnvelope(await call("POST", `/v1/projects/${project.id}/keys`, { token: stranger.token, body: { name: "x" } }), 404, "not_found");
    expect(await rows("SELECT * FROM audit_logs WHERE org_id = ? AND action = 'access.denied'", org.id)).toEqual([]);
  });
});

describe("dashboard token mints", () => {
  it("audits a member minting a room token from the dashboard, without the token", async () => {
    const { user, org, project } = await createTenant();
    const res = await call("POST", `/v1/projects/${project.id}/tokens`, { token: user.token, body: { identity: "tester", room: "lobby" } });
    expect(res.status).toBe(201);
    const [minted] = await entries(org.id, "token.minted");
    expect(minted).toMatchObject({ actor_type: "user", actor_id: user.id, project_id: project.id, resource_id: "lobby" });
    const metadata = JSON.parse(minted!.metadata);
    expect(metadata).toMatchObject({ room: "lobby", identity: "tester" });
    expect(minted!.metadata).not.toContain(res.body.token);
  });
});
