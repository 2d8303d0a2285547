import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createOrg, createProject, createTenant, createUser } from "../support/factories";
import { createEndpoint } from "../support/webhook-receiver";

const base = (projectId: string) => `/v1/projects/${projectId}/webhooks`;

async function addMember(ownerToken: string, orgId: string, role: string) {
  const user = await createUser();
  const inv = await call("POST", `/v1/orgs/${orgId}/invitations`, { token: ownerToken, body: { email: user.email, role } });
  if (inv.status !== 201) throw new Error(`invite failed ${inv.status} ${inv.text}`);
  const acc = await call("POST", "/v1/invitations/accept", { token: user.token, body: { token: inv.body.token } });
  if (acc.status >= 300) throw new Error(`accept failed ${acc.status} ${acc.text}`);
  return user;
}

describe("webhook endpoints", () => {
  it("creates an endpoint with a whsec_ secret shown once, stored encrypted", async () => {
    const { user, project } = await createTenant();
    const res = await call("POST", base(project.id), {
      token: user.token,
      body: { url: "https://hooks.example.com/pulse?x=1", events: ["participant.joined", "room.finished"], description: "Ops <b>alerts</b> 🚨" },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^whk_/),
      project_id: project.id,
      url: "https://hooks.example.com/pulse?x=1",
      events: ["participant.joined", "room.finished"],
      description: "Ops <b>alerts</b> 🚨",
      enabled: true,
    });
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(atob(res.body.secret.slice(6)).length).toBeGreaterThanOrEqual(24);
    const row = await env.DB.prepare("SELECT * FROM webhook_endpoints WHERE id = ?").bind(res.body.id).first<Record<string, string>>();
    expect(JSON.stringify(row)).not.toContain(res.body.secret.slice(6));

    const read = await call("GET", `${base(project.id)}/${res.body.id}`, { token: user.token });
    expect(read.status).toBe(200);
    expect(read.body.secret).toBeUndefined();
    const list = await call("GET", base(project.id), { token: user.token });
    expect(list.body.data.map((e: any) => e.id)).toEqual([res.body.id]);
    expect(list.text).not.toContain(res.body.secret);
  });

  it("refuses non-http URLs, credentials in URLs, unknown event types and unknown fields", async () => {
    const { user, project } = await createTenant();
    for (const body of [
      { url: "ftp://example.com/x" },
      { url: "javascript:alert(1)" },
      { url: "not a url" },
      { url: "https://user:pass@example.com/" },
      { url: "https://example.com/", events: ["participant.danced"] },
      { url: "https://example.com/", events: [] },
      { url: "https://example.com/", secret: "whsec_mine" },
    ]) {
      const res = await call("POST", base(project.id), { token: user.token, body });
      expectEnvelope(res, 400, "validation_failed");
    }
  });

  it("patches url, events, description and enabled, and audits each change", async () => {
    const { user, org, project } = await createTenant();
    const ep = await createEndpoint(user.token, project.id, { url: "https://a.example.com/" });
    const res = await call("PATCH", `${base(project.id)}/${ep.id}`, {
      token: user.token,
      body: { url: "https://b.example.com/hook", events: ["track.published"], description: null, enabled: false },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ url: "https://b.example.com/hook", events: ["track.published"], description: null, enabled: false });
    const back = await call("PATCH", `${base(project.id)}/${ep.id}`, { token: user.token, body: { enabled: true, events: null } });
    expect(back.body).toMatchObject({ enabled: true, events: null, disabled_reason: null });
    expectEnvelope(await call("PATCH", `${base(project.id)}/${ep.id}`, { token: user.token, body: {} }), 400, "validation_failed");
    expectEnvelope(await call("PATCH", `${base(project.id)}/${ep.id}`, { token: user.token, body: { secret: "x" } }), 400, "validation_failed");
    const audit = await call("GET", `/v1/orgs/${org.id}/audit-logs?resource_id=${ep.id}`, { token: user.token });
    expect(audit.body.data.map((a: any) => a.action).sort()).toEqual(["webhook_endpoint.created", "webhook_endpoint.updated", "webhook_endpoint.updated"]);
    expect(audit.text).not.toContain("whsec_");
    // Webhook URLs often embed a token in the path: the audit log keeps only the origin.
    expect(audit.text).not.toContain("/hook");
    expect(audit.text).toContain("https://b.example.com");
  });

  it("deletes an endpoint: it disappears from reads and lists", async () => {
    const { user, project } = await createTenant();
    const ep = await createEndpoint(user.token, project.id, { url: "https://a.example.com/" });
    expect((await call("DELETE", `${base(project.id)}/${ep.id}`, { token: user.token })).status).toBe(204);
    expectEnvelope(await call("GET", `${base(project.id)}/${ep.id}`, { token: user.token }), 404, "not_found");
    expect((await call("GET", base(project.id), { token: user.token })).body.data).toEqual([]);
    expectEnvelope(await call("DELETE", `${base(project.id)}/${ep.id}`, { token: user.token }), 404, "not_found");
  });

  it("returns 404 for another tenant's endpoint, whatever the route", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const ep = await createEndpoint(a.user.token, a.project.id, { url: "https://a.example.com/" });
    // b's own project with a's endpoint id, and a's project with b's token.
    for (const [method, path] of [
      ["GET", `${base(b.project.id)}/${ep.id}`],
      ["PATCH", `${base(b.project.id)}/${ep.id}`],
      ["DELETE", `${base(b.project.id)}/${ep.id}`],
      ["POST", `${base(b.project.id)}/${ep.id}/test`],
      ["POST", `${base(b.project.id)}/${ep.id}/rotate-secret`],
      ["GET", `${base(b.project.id)}/${ep.id}/deliveries`],
      ["GET", `${base(a.project.id)}/${ep.id}`],
      ["GET", base(a.project.id)],
      ["POST", `${base(a.project.id)}/${ep.id}/rotate-secret`],
    ] as const) {
      const res = await call(method, path, { token: b.user.token, body: method === "PATCH" ? { enabled: false } : undefined });
      expectEnvelope(res, 404, "not_found");
    }
    expect((await call("GET", `${base(a.project.id)}/${ep.id}`, { token: a.user.token })).body.enabled).toBe(true);
  });

  it("lets viewers read endpoints but not change them; requires a session", async () => {
    const { user, org, project } = await createTenant();
    const ep = await createEndpoint(user.token, project.id, { url: "https://a.example.com/" });
    const viewer = await addMember(user.token, org.id, "viewer");
    expect((await call("GET", base(project.id), { token: viewer.token })).status).toBe(200);
    expect((await call("GET", `${base(project.id)}/${ep.id}/deliveries`, { token: viewer.token })).status).toBe(200);
    expectEnvelope(await call("POST", base(project.id), { token: viewer.token, body: { url: "https://x.example.com/" } }), 403, "forbidden");
    expectEnvelope(await call("POST", `${base(project.id)}/${ep.id}/rotate-secret`, { token: viewer.token }), 403, "forbidden");
    expectEnvelope(await call("GET", base(project.id)), 401, "unauthenticated");
  });

  it("queues a webhook.test message for the endpoint, refused while the endpoint is disabled", async () => {
    const { user, project } = await createTenant();
    const ep = await createEndpoint(user.token, project.id, { url: "https://unreachable.example.invalid/" });
    const res = await call("POST", `${base(project.id)}/${ep.id}/test`, { token: user.token });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ id: expect.stringMatching(/^msg_/), event_type: "webhook.test", status: "pending", payload: { type: "webhook.test" } });
    await call("PATCH", `${base(project.id)}/${ep.id}`, { token: user.token, body: { enabled: false } });
    expectEnvelope(await call("POST", `${base(project.id)}/${ep.id}/test`, { token: user.token }), 409, "conflict");
  });

  it("pages the endpoint list with a cursor", async () => {
    const { user, project } = await createTenant();
    for (let i = 0; i < 3; i++) await createEndpoint(user.token, project.id, { url: `https://h${i}.example.com/` });
    const first = await call("GET", `${base(project.id)}?limit=2`, { token: user.token });
    expect(first.body.data).toHaveLength(2);
    const second = await call("GET", `${base(project.id)}?limit=2&cursor=${first.body.next_cursor}`, { token: user.token });
    expect(second.body.data).toHaveLength(1);
    expect(second.body.next_cursor).toBeNull();
    expectEnvelope(await call("GET", `${base(project.id)}?limit=0`, { token: user.token }), 400, "validation_failed");
  });

  it("keeps a new project's endpoints separate from another project in the same org", async () => {
    const user = await createUser();
    const org = await createOrg(user);
    const p1 = await createProject(user, org.id, "one");
    const p2 = await createProject(user, org.id, "two");
    const ep = await createEndpoint(user.token, p1.id, { url: "https://a.example.com/" });
    expectEnvelope(await call("GET", `${base(p2.id)}/${ep.id}`, { token: user.token }), 404, "not_found");
  });
});
