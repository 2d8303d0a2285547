import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createApiKey, createOrg, createProject, createUser, PASSWORD } from "../support/factories";

describe("the README walk-through", () => {
  it("signs up, creates an org, a project and an API key that authenticates", async () => {
    const signup = await call("POST", "/v1/auth/signup", {
      body: { email: "Ada@Example.com", password: PASSWORD, name: "Ada Lovelace" },
      ip: "192.0.2.1",
    });
    expect(signup.status).toBe(201);
    expect(signup.body.user).toMatchObject({ email: "Ada@Example.com", name: "Ada Lovelace" });
    expect(signup.body.user.id).toMatch(/^usr_/);
    expect(signup.body.token).toMatch(/^sess_/);
    expect(Date.parse(signup.body.expires_at)).toBeGreaterThan(Date.now());
    const token = signup.body.token as string;

    const org = await call("POST", "/v1/orgs", { token, body: { name: "Analytical Engines" } });
    expect(org.status).toBe(201);
    expect(org.body).toMatchObject({ name: "Analytical Engines", role: "owner", plan: "free" });
    expect(org.body.id).toMatch(/^org_/);

    const project = await call("POST", `/v1/orgs/${org.body.id}/projects`, { token, body: { name: "Difference" } });
    expect(project.status).toBe(201);
    expect(project.body).toMatchObject({ name: "Difference", org_id: org.body.id });
    expect(project.body.id).toMatch(/^proj_/);

    const key = await call("POST", `/v1/projects/${project.body.id}/keys`, { token, body: { name: "backend" } });
    expect(key.status).toBe(201);
    expect(key.body.id).toMatch(/^key_/);
    expect(key.body.secret).toMatch(/^pulse_live_[0-9A-Za-z]{40,}$/);
    expect(key.body.secret.startsWith(key.body.prefix)).toBe(true);
    expect(key.body.prefix.length).toBeGreaterThanOrEqual(12);
    expect(key.body.scopes).toEqual(["tokens:write", "egress:write", "ingress:write", "webhooks:write", "usage:read", "rooms:read", "rooms:write"]);

    const whoami = await call("GET", "/v1/api-key", { token: key.body.secret });
    expect(whoami.status).toBe(200);
    expect(whoami.body).toMatchObject({ id: key.body.id, project_id: project.body.id, org_id: org.body.id });
    expect(whoami.text).not.toContain(key.body.secret);

    // The same key through the X-API-Key header.
    const viaHeader = await call("GET", "/v1/api-key", { headers: { "X-API-Key": key.body.secret } });
    expect(viaHeader.status).toBe(200);

    const me = await call("GET", "/v1/me", { token });
    expect(me.status).toBe(200);
    expect(me.body.organizations).toEqual([{ id: org.body.id, name: "Analytical Engines", role: "owner" }]);

    // Login is case-insensitive on the email and gives a fresh session.
    const login = await call("POST", "/v1/auth/login", { body: { email: "ada@example.COM", password: PASSWORD }, ip: "192.0.2.1" });
    expect(login.status).toBe(200);
    expect(login.body.token).not.toBe(token);
  });
});

describe("cross-tenant isolation", () => {
  it("answers 404 to a second user for every id of the first, and changes nothing", async () => {
    const alice = await createUser();
    const org = await createOrg(alice, "Alice Co");
    const project = await createProject(alice, org.id, "Alice project");
    const key = await createApiKey(alice, project.id);
    const mallory = await createUser();
    const malloryOrg = await createOrg(mallory, "Mallory Co");
    const orgIds = [org.id, malloryOrg.id];

    const before = await snapshot(orgIds);
    const attempts: [string, string, unknown?][] = [
      ["GET", `/v1/orgs/${org.id}`],
      ["PATCH", `/v1/orgs/${org.id}`, { name: "pwned" }],
      ["DELETE", `/v1/orgs/${org.id}`],
      ["POST", `/v1/orgs/${org.id}/projects`, { name: "pwned" }],
      ["GET", `/v1/orgs/${org.id}/projects`],
      ["GET", `/v1/projects/${project.id}`],
      ["PATCH", `/v1/projects/${project.id}`, { name: "pwned" }],
      ["DELETE", `/v1/projects/${project.id}`],
      ["POST", `/v1/projects/${project.id}/keys`, { name: "pwned" }],
      ["GET", `/v1/projects/${project.id}/keys`],
      ["DELETE", `/v1/projects/${project.id}/keys/${key.id}`],
      ["POST", `/v1/projects/${project.id}/keys/${key.id}/roll`],
      ["GET", `/v1/orgs/${org.id}/audit-logs`],
      ["GET", `/v1/orgs/${org.id}/audit-logs/export?format=csv`],
    ];
    for (const [method, path, body] of attempts) {
      const res = await call(method, path, { token: mallory.token, body });
      expectEnvelope(res, 404, "not_found");
    }
    // An audit entry id of Alice's org, read through Mallory's own org, is also 404.
    const aliceAudit = await call("GET", `/v1/orgs/${org.id}/audit-logs`, { token: alice.token });
    const entryId = aliceAudit.body.data[0].id;
    expectEnvelope(await call("GET", `/v1/orgs/${org.id}/audit-logs/${entryId}`, { token: mallory.token }), 404, "not_found");

    expect(await snapshot(orgIds)).toEqual(before);
    // And Alice's key still works.
    expect((await call("GET", "/v1/api-key", { token: key.secret })).status).toBe(200);
  });

  it("hides another org's project even when addressed through the caller's own org", async () => {
    const alice = await createUser();
    const aliceOrg = await createOrg(alice);
    const aliceProject = await createProject(alice, aliceOrg.id);
    const bob = await createUser();
    await createOrg(bob);
    const res = await call("GET", `/v1/projects/${aliceProject.id}/keys`, { token: bob.token });
    expectEnvelope(res, 404, "not_found");
  });
});

/** Every row of the given orgs in every tenant table, for "nothing changed" assertions. */
async function snapshot(orgIds: string[]) {
  const tables = ["memberships", "projects", "api_keys", "invitations", "audit_logs"];
  const marks = orgIds.map(() => "?").join(",");
  const out: Record<string, unknown[]> = {
    organizations: (await env.DB.prepare(`SELECT * FROM organizations WHERE id IN (${marks}) ORDER BY id`).bind(...orgIds).all()).results,
  };
  for (const t of tables) {
    out[t] = (await env.DB.prepare(`SELECT * FROM ${t} WHERE org_id IN (${marks}) ORDER BY 1, 2`).bind(...orgIds).all()).results;
  }
  return out;
}
