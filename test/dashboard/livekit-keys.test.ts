import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DashboardClient, hasForm } from "../support/dashboard";
import { createTenant, createUser } from "../support/factories";
import { createLivekitKey } from "../support/livekit-keys";
import { twirp } from "../support/livekit-sdk";
import { AccessToken } from "livekit-server-sdk";
import { joinOrg } from "../support/team";

const liveKeys = async (projectId: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM livekit_keys WHERE project_id = ? AND deleted_at IS NULL").bind(projectId).first<{ n: number }>())!.n;

/** Calls Pulse's Twirp API the way LiveKit's SDKs do, signed with the key pair. */
async function listEgressWith(apiKey: string, apiSecret: string) {
  const at = new AccessToken(apiKey, apiSecret, { ttl: 60 });
  at.addGrant({ roomRecord: true });
  return twirp("livekit.Egress/ListEgress", { body: "{}", contentType: "application/json", token: await at.toJwt() });
}

describe("LiveKit keys in the dashboard", () => {
  it("lets an admin create a key whose secret is shown once and works with LiveKit's SDK signing", async () => {
    const { user, project } = await createTenant();
    const client = DashboardClient.signedIn(user.token);
    const base = `/projects/${project.id}/livekit-keys`;
    const created = await client.post(base, { name: "media <server>" }, { from: base });
    expect(created.status).toBe(303);
    const first = await client.get(base);
    const secret = /id="secret-value"[^>]*>([0-9A-Za-z]{43,})</.exec(first.html)?.[1];
    const apiKey = /LiveKit key (API[0-9A-Za-z]{12}) created/.exec(first.html)?.[1];
    expect(secret).toBeTruthy();
    expect(apiKey).toBeTruthy();
    expect(first.html).toContain("media &lt;server&gt;");
    expect(first.html).toContain('data-copy="#secret-value"');
    expect((await listEgressWith(apiKey!, secret!)).status).toBe(200);

    const again = await client.get(base);
    expect(again.html).not.toContain(secret!);
    expect(again.html).toContain(apiKey!);
    expect(created.headers.getSetCookie().join(";")).not.toContain(secret!);
  });

  it("lets an admin delete a key, which stops working at once", async () => {
    const { user, project } = await createTenant();
    const key = await createLivekitKey(user, project.id, { name: "old" });
    const client = DashboardClient.signedIn(user.token);
    const base = `/projects/${project.id}/livekit-keys`;
    expect(hasForm((await client.get(base)).html, `${base}/${key.id}/delete`)).toBe(true);
    const deleted = await client.post(`${base}/${key.id}/delete`, {}, { from: base });
    expect(deleted.status).toBe(303);
    expect(await liveKeys(project.id)).toBe(0);
    expect((await listEgressWith(key.api_key, key.api_secret)).status).toBe(401);
  });

  it("shows a member the keys without create or delete forms, refuses the member's forged POSTs and hides keys from viewers", async () => {
    const { user, org, project } = await createTenant();
    const key = await createLivekitKey(user, project.id, { name: "kept" });
    const base = `/projects/${project.id}/livekit-keys`;
    const member = DashboardClient.signedIn((await joinOrg(user, org.id, "member")).token);
    const page = await member.get(base);
    expect(page.status).toBe(200);
    expect(page.html).toContain(key.api_key);
    expect(page.html).not.toContain(key.api_secret);
    expect(hasForm(page.html, base)).toBe(false);
    expect(hasForm(page.html, `${base}/${key.id}/delete`)).toBe(false);
    expect((await member.post(base, { name: "sneaky" }, { from: base })).status).toBe(403);
    expect((await member.post(`${base}/${key.id}/delete`, {}, { from: base })).status).toBe(403);
    expect(await liveKeys(project.id)).toBe(1);

    const viewer = DashboardClient.signedIn((await joinOrg(user, org.id, "viewer")).token);
    const hidden = await viewer.get(base);
    expect(hidden.status).toBe(200);
    expect(hidden.html).toContain("Your role cannot see LiveKit keys");
    expect(hidden.html).not.toContain(key.api_key);
  });

  it("answers 404 for another org's project and for another project's key", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const key = await createLivekitKey(a.user, a.project.id);
    const stranger = DashboardClient.signedIn((await createUser()).token);
    expect((await stranger.get(`/projects/${a.project.id}/livekit-keys`)).status).toBe(404);
    expect((await stranger.post(`/projects/${a.project.id}/livekit-keys`, {}, { from: "/account" })).status).toBe(404);
    const other = DashboardClient.signedIn(b.user.token);
    const cross = await other.post(`/projects/${b.project.id}/livekit-keys/${key.id}/delete`, {}, { from: "/account" });
    expect(cross.status).toBe(404);
    expect(await liveKeys(a.project.id)).toBe(1);
  });

  it("refuses creating a key without the CSRF token", async () => {
    const { user, project } = await createTenant();
    const res = await DashboardClient.signedIn(user.token).post(`/projects/${project.id}/livekit-keys`, { name: "x" }, { csrf: null });
    expect(res.status).toBe(403);
    expect(await liveKeys(project.id)).toBe(0);
  });
});
