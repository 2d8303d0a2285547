/**
 * Count caps: one person must not be able to create unlimited free orgs, nor an org unlimited
 * projects, keys, webhook endpoints or pending invitations. Each test sets its cap small through
 * the Worker's vars (as `wrangler dev --var` would) and checks the 409 names the limit, that what
 * frees a place (deleting, revoking, upgrading) frees it, and that concurrent creates at the cap
 * cannot overshoot it.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, call, expectEnvelope, readResponse, type ApiResponse } from "../support/api";
import { createOrg, createTenant, createUser } from "../support/factories";
import { fetchWithEnv } from "../support/worker-env";

type Vars = Record<string, string>;

function callWith(vars: Vars, method: string, path: string, token: string, body?: unknown): Promise<ApiResponse> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, "CF-Connecting-IP": "203.0.113.10" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetchWithEnv(vars, new Request(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })).then(readResponse);
}

function expectCap(res: ApiResponse, variable: string) {
  const error = expectEnvelope(res, 409, "conflict");
  expect(error.message).toContain(variable);
  return error;
}

async function count(sql: string, ...params: unknown[]) {
  return (await env.DB.prepare(sql).bind(...params).first<{ n: number }>())!.n;
}

describe("count caps", () => {
  it("refuses a user a third free org (LIMIT_FREE_ORGS_PER_USER) so one person cannot farm free plans, by creating or by downgrading", async () => {
    const vars = { LIMIT_FREE_ORGS_PER_USER: "2" };
    const user = await createUser();
    const first = await callWith(vars, "POST", "/v1/orgs", user.token, { name: "One" });
    expect(first.status, first.text).toBe(201);
    expect((await callWith(vars, "POST", "/v1/orgs", user.token, { name: "Two" })).status).toBe(201);
    const error = expectCap(await callWith(vars, "POST", "/v1/orgs", user.token, { name: "Three" }), "LIMIT_FREE_ORGS_PER_USER");
    expect(error.message).toContain("2");
    // The refused create left nothing behind: no org, no membership, no audit entry.
    expect(await count("SELECT count(*) AS n FROM memberships WHERE user_id = ?", user.id)).toBe(2);
    expect(await count("SELECT count(*) AS n FROM audit_logs WHERE actor_id = ? AND action = 'org.created'", user.id)).toBe(2);

    // A paid org is not a free one: upgrading frees a place.
    expect((await call("PUT", `/v1/orgs/${first.body.id}/plan`, { token: user.token, body: { plan: "pro" } })).status).toBe(200);
    expect((await callWith(vars, "POST", "/v1/orgs", user.token, { name: "Three" })).status).toBe(201);
    expectCap(await callWith(vars, "POST", "/v1/orgs", user.token, { name: "Four" }), "LIMIT_FREE_ORGS_PER_USER");
    // Nor can upgrade, create, downgrade add up to a third free org: the downgrade is refused.
    expectCap(await callWith(vars, "PUT", `/v1/orgs/${first.body.id}/plan`, user.token, { plan: "free" }), "LIMIT_FREE_ORGS_PER_USER");
    expect((await call("GET", `/v1/orgs/${first.body.id}`, { token: user.token })).body.plan).toBe("pro");
    // Another user has their own allowance.
    expect((await callWith(vars, "POST", "/v1/orgs", (await createUser()).token, { name: "Theirs" })).status).toBe(201);
  });

  it("lets no more than LIMIT_FREE_ORGS_PER_USER free orgs through when one user creates many at once", async () => {
    const vars = { LIMIT_FREE_ORGS_PER_USER: "2" };
    const user = await createUser();
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => callWith(vars, "POST", "/v1/orgs", user.token, { name: `Burst ${i}` })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(2);
    for (const r of results.filter((r) => r.status !== 201)) expectCap(r, "LIMIT_FREE_ORGS_PER_USER");
    expect(await count("SELECT count(*) AS n FROM memberships WHERE user_id = ? AND role = 'owner'", user.id)).toBe(2);
  });

  it("refuses an org's project past LIMIT_PROJECTS_PER_ORG, and deleting one frees its place", async () => {
    const vars = { LIMIT_PROJECTS_PER_ORG: "2" };
    const { user, org, project } = await createTenant();
    expect((await callWith(vars, "POST", `/v1/orgs/${org.id}/projects`, user.token, { name: "Second" })).status).toBe(201);
    expectCap(await callWith(vars, "POST", `/v1/orgs/${org.id}/projects`, user.token, { name: "Third" }), "LIMIT_PROJECTS_PER_ORG");
    expect((await call("DELETE", `/v1/projects/${project.id}`, { token: user.token })).status).toBe(204);
    expect((await callWith(vars, "POST", `/v1/orgs/${org.id}/projects`, user.token, { name: "Third" })).status).toBe(201);
  });

  it("lets no more than LIMIT_PROJECTS_PER_ORG projects through concurrent creates", async () => {
    const vars = { LIMIT_PROJECTS_PER_ORG: "3" };
    const user = await createUser();
    const org = await createOrg(user);
    const results = await Promise.all(Array.from({ length: 7 }, (_, i) => callWith(vars, "POST", `/v1/orgs/${org.id}/projects`, user.token, { name: `P${i}` })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(await count("SELECT count(*) AS n FROM projects WHERE org_id = ?", org.id)).toBe(3);
    expect(await count("SELECT count(*) AS n FROM audit_logs WHERE org_id = ? AND action = 'project.created'", org.id)).toBe(3);
  });

  it("refuses a project's key past LIMIT_KEYS_PER_PROJECT active keys; revoked and expired keys do not count", async () => {
    const vars = { LIMIT_KEYS_PER_PROJECT: "2" };
    const { user, project, key } = await createTenant();
    const second = await callWith(vars, "POST", `/v1/projects/${project.id}/keys`, user.token, { name: "two" });
    expect(second.status).toBe(201);
    expectCap(await callWith(vars, "POST", `/v1/projects/${project.id}/keys`, user.token, { name: "three" }), "LIMIT_KEYS_PER_PROJECT");
    expect((await call("DELETE", `/v1/projects/${project.id}/keys/${key.id}`, { token: user.token })).status).toBe(204);
    expect((await callWith(vars, "POST", `/v1/projects/${project.id}/keys`, user.token, { name: "three" })).status).toBe(201);
    // An expired key is dead too.
    await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?").bind(Date.now() - 1000, second.body.id).run();
    expect((await callWith(vars, "POST", `/v1/projects/${project.id}/keys`, user.token, { name: "four" })).status).toBe(201);
    expectCap(await callWith(vars, "POST", `/v1/projects/${project.id}/keys`, user.token, { name: "five" }), "LIMIT_KEYS_PER_PROJECT");
  });

  it("refuses a webhook endpoint past LIMIT_WEBHOOKS_PER_PROJECT on both the session and the API-key routes", async () => {
    const vars = { LIMIT_WEBHOOKS_PER_PROJECT: "2" };
    const { user, project, key } = await createTenant();
    const one = await callWith(vars, "POST", `/v1/projects/${project.id}/webhooks`, user.token, { url: "https://a.example.com/" });
    expect(one.status, one.text).toBe(201);
    expect((await callWith(vars, "POST", "/v1/webhooks", key.secret, { url: "https://b.example.com/" })).status).toBe(201);
    expectCap(await callWith(vars, "POST", `/v1/projects/${project.id}/webhooks`, user.token, { url: "https://c.example.com/" }), "LIMIT_WEBHOOKS_PER_PROJECT");
    expectCap(await callWith(vars, "POST", "/v1/webhooks", key.secret, { url: "https://c.example.com/" }), "LIMIT_WEBHOOKS_PER_PROJECT");
    expect(await count("SELECT count(*) AS n FROM webhook_endpoints WHERE project_id = ?", project.id)).toBe(2);
    expect((await call("DELETE", `/v1/webhooks/${one.body.id}`, { token: key.secret })).status).toBe(204);
    expect((await callWith(vars, "POST", "/v1/webhooks", key.secret, { url: "https://c.example.com/" })).status).toBe(201);
  });

  it("refuses a pending invitation past LIMIT_PENDING_INVITATIONS_PER_ORG; a re-invite replaces in place, a revoke frees a place", async () => {
    const vars = { LIMIT_PENDING_INVITATIONS_PER_ORG: "2" };
    const { user, org } = await createTenant();
    const invite = (email: string) => callWith(vars, "POST", `/v1/orgs/${org.id}/invitations`, user.token, { email, role: "member" });
    expect((await invite("a@example.com")).status).toBe(201);
    const b = await invite("b@example.com");
    expect(b.status).toBe(201);
    expectCap(await invite("c@example.com"), "LIMIT_PENDING_INVITATIONS_PER_ORG");
    // Nothing was mailed for the refused invitation.
    expect(await count("SELECT count(*) AS n FROM mail_outbox WHERE to_normalized = 'c@example.com'")).toBe(0);
    expect((await invite("a@example.com")).status).toBe(201);
    expect((await call("DELETE", `/v1/orgs/${org.id}/invitations/${b.body.id}`, { token: user.token })).status).toBe(204);
    expect((await invite("c@example.com")).status).toBe(201);
    const pending = await call("GET", `/v1/orgs/${org.id}/invitations`, { token: user.token });
    expect(pending.body.data.map((i: { email: string }) => i.email).sort()).toEqual(["a@example.com", "c@example.com"]);
  });

  it("counts no mail against the address of an invitation refused at the cap", async () => {
    const vars = { LIMIT_PENDING_INVITATIONS_PER_ORG: "1" };
    const { user, org } = await createTenant();
    const email = `capped-${crypto.randomUUID()}@example.com`;
    const invite = (to: string) => callWith(vars, "POST", `/v1/orgs/${org.id}/invitations`, user.token, { email: to, role: "member" });
    const first = await invite("holder@example.com");
    expect(first.status).toBe(201);
    for (let i = 0; i < 6; i++) expectCap(await invite(email), "LIMIT_PENDING_INVITATIONS_PER_ORG");
    expect((await call("DELETE", `/v1/orgs/${org.id}/invitations/${first.body.id}`, { token: user.token })).status).toBe(204);
    // All five of the address's mails are still there: each re-invite replaces the last and is mailed.
    for (let i = 0; i < 5; i++) expect((await invite(email)).status).toBe(201);
    expect(await count("SELECT count(*) AS n FROM mail_outbox WHERE to_normalized = ?", email)).toBe(5);
  });

  it("applies the default of two free orgs per user when nothing is configured", async () => {
    const owner = await createUser();
    expect((await call("POST", "/v1/orgs", { token: owner.token, body: { name: "A" } })).status).toBe(201);
    expect((await call("POST", "/v1/orgs", { token: owner.token, body: { name: "B" } })).status).toBe(201);
    expectCap(await call("POST", "/v1/orgs", { token: owner.token, body: { name: "C" } }), "LIMIT_FREE_ORGS_PER_USER");
  });
});
