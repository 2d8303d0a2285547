import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DashboardClient, hasForm } from "../support/dashboard";
import { createTenant, createUser } from "../support/factories";
import { joinOrg } from "../support/team";

const count = async (sql: string, ...binds: unknown[]) => (await env.DB.prepare(sql).bind(...binds).first<{ n: number }>())!.n;

describe("what each role sees and may do in the dashboard", () => {
  it("shows a viewer no key-creation form and refuses a forged key POST with 403", async () => {
    const { user: owner, org, project } = await createTenant();
    const viewer = DashboardClient.signedIn((await joinOrg(owner, org.id, "viewer")).token);
    const page = await viewer.get(`/projects/${project.id}/keys`);
    expect(page.status).toBe(200);
    expect(hasForm(page.html, `/projects/${project.id}/keys`)).toBe(false);
    expect(page.html).toContain("Your role cannot see API keys");
    const before = await count("SELECT COUNT(*) AS n FROM api_keys WHERE project_id = ?", project.id);
    const forged = await viewer.post(`/projects/${project.id}/keys`, { name: "sneaky", scopes: ["tokens:write"] }, { from: `/projects/${project.id}` });
    expect(forged.status).toBe(403);
    expect(await count("SELECT COUNT(*) AS n FROM api_keys WHERE project_id = ?", project.id)).toBe(before);
  });

  it("lets a member see key metadata and mint test tokens, but not create keys", async () => {
    const { user: owner, org, project } = await createTenant();
    const memberUser = await joinOrg(owner, org.id, "member");
    const member = DashboardClient.signedIn(memberUser.token);
    const keys = await member.get(`/projects/${project.id}/keys`);
    expect(keys.html).toContain("Prefix");
    expect(hasForm(keys.html, `/projects/${project.id}/keys`)).toBe(false);
    expect(keys.html).not.toContain("/roll");
    const playground = await member.get(`/projects/${project.id}/playground`);
    expect(hasForm(playground.html, `/projects/${project.id}/playground`)).toBe(true);
    // The admin-only grants are not offered to a member, and a forged one is refused.
    expect(playground.html).toContain("Publish tracks");
    expect(playground.html).not.toContain("Admin of this room");
    expect(playground.html).not.toContain("Hidden participant");
    const forged = await member.post(`/projects/${project.id}/playground`, { identity: "bob", room: "demo", ttl: "600", grants: ["room_admin"] }, { from: `/projects/${project.id}` });
    expect(forged.status).toBe(403);
    const admin = DashboardClient.signedIn((await joinOrg(owner, org.id, "admin")).token);
    expect((await admin.get(`/projects/${project.id}/playground`)).html).toContain("Admin of this room");
    const minted = await member.post(`/projects/${project.id}/playground`, { identity: "bob", room: "demo", ttl: "600", grants: ["can_subscribe"] }, { from: `/projects/${project.id}` });
    expect(minted.status).toBe(200);
    expect(minted.html).toContain(`&quot;room&quot;: &quot;${project.id}:demo&quot;`);
    // A person obtained a room credential: audited like the API's member mint, never the token.
    const entries = await env.DB.prepare("SELECT actor_type, actor_id, resource_id, metadata FROM audit_logs WHERE project_id = ? AND action = 'token.minted'")
      .bind(project.id)
      .all<{ actor_type: string; actor_id: string; resource_id: string; metadata: string }>();
    expect(entries.results).toHaveLength(1);
    expect(entries.results[0]).toMatchObject({ actor_type: "user", actor_id: memberUser.id, resource_id: "demo" });
    expect(JSON.parse(entries.results[0]!.metadata)).toMatchObject({ identity: "bob", room: "demo" });
    expect(entries.results[0]!.metadata).not.toMatch(/eyJ/);
  });

  it("refuses a viewer's forged POSTs on every admin action and shows none of their forms", async () => {
    const { user: owner, org, project, key } = await createTenant();
    const viewer = DashboardClient.signedIn((await joinOrg(owner, org.id, "viewer")).token);
    const pages = [`/orgs/${org.id}`, `/orgs/${org.id}/team`, `/orgs/${org.id}/settings`, `/projects/${project.id}`, `/projects/${project.id}/webhooks`, `/projects/${project.id}/playground`];
    const actions = [
      `/orgs/${org.id}/projects`,
      `/orgs/${org.id}/invitations`,
      `/orgs/${org.id}/rename`,
      `/orgs/${org.id}/delete`,
      `/projects/${project.id}/rename`,
      `/projects/${project.id}/delete`,
      `/projects/${project.id}/webhooks`,
      `/projects/${project.id}/playground`,
      `/projects/${project.id}/keys/${key.id}/revoke`,
    ];
    for (const path of pages) {
      const page = await viewer.get(path);
      expect(page.status, path).toBe(200);
      for (const action of actions) expect(hasForm(page.html, action), `${path} has a form for ${action}`).toBe(false);
    }
    for (const action of actions) {
      const res = await viewer.post(action, { name: "x", confirm: "Acme", email: "x@example.com", role: "member", url: "https://example.com/h", identity: "a", room: "r" }, { from: `/projects/${project.id}` });
      expect(res.status, action).toBe(403);
    }
    expect(await count("SELECT COUNT(*) AS n FROM api_keys WHERE id = ? AND revoked_at IS NULL", key.id)).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM organizations WHERE id = ? AND deleted_at IS NULL", org.id)).toBe(1);
  });

  it("answers 404 for another org's project and org, on pages and on forms", async () => {
    const { org, project } = await createTenant();
    const stranger = DashboardClient.signedIn((await createUser()).token);
    for (const path of [`/projects/${project.id}`, `/projects/${project.id}/keys`, `/projects/${project.id}/webhooks`, `/projects/${project.id}/usage`, `/orgs/${org.id}`, `/orgs/${org.id}/audit`]) {
      const res = await stranger.get(path);
      expect(res.status, path).toBe(404);
      expect(res.html).not.toContain(project.id.slice(5));
    }
    const forged = await stranger.post(`/projects/${project.id}/keys`, { name: "x" }, { from: "/account" });
    expect(forged.status).toBe(404);
  });

  it("offers the owner role only to owners, and lets the owner delete the org only by typing its name", async () => {
    const { user: owner, org } = await createTenant();
    const admin = DashboardClient.signedIn((await joinOrg(owner, org.id, "admin")).token);
    const team = await admin.get(`/orgs/${org.id}/team`);
    expect(team.html).toContain('<option value="admin"');
    expect(team.html).not.toContain('<option value="owner"');
    const ownerClient = DashboardClient.signedIn(owner.token);
    expect((await ownerClient.get(`/orgs/${org.id}/team`)).html).toContain('<option value="owner"');
    const mistyped = await ownerClient.post(`/orgs/${org.id}/delete`, { confirm: "acme" }, { from: `/orgs/${org.id}/settings` });
    expect(mistyped.status).toBe(400);
    expect(mistyped.html).toContain('id="f-confirm-error"');
    expect(await count("SELECT COUNT(*) AS n FROM organizations WHERE id = ? AND deleted_at IS NULL", org.id)).toBe(1);
    const typed = await ownerClient.post(`/orgs/${org.id}/delete`, { confirm: "Acme" }, { from: `/orgs/${org.id}/settings` });
    expect(typed.status).toBe(303);
    expect(await count("SELECT COUNT(*) AS n FROM organizations WHERE id = ? AND deleted_at IS NULL", org.id)).toBe(0);
  });
});
