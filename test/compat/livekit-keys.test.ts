import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createTenant } from "../support/factories";
import { createLivekitKey } from "../support/livekit-keys";
import { auditActions, joinOrg } from "../support/team";

const keysPath = (projectId: string) => `/v1/projects/${projectId}/livekit-keys`;

describe("LiveKit keys", () => {
  it("are created by an admin with an API… key and a 43+ character secret shown once, stored sealed and audited", async () => {
    const { user, org, project } = await createTenant();
    const res = await call("POST", keysPath(project.id), { token: user.token, body: { name: "Backend ✨ <prod>" } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.id).toMatch(/^lkk_[0-9A-Za-z]+$/);
    expect(res.body.api_key).toMatch(/^API[0-9A-Za-z]{12}$/);
    expect(res.body.api_secret).toMatch(/^[0-9A-Za-z]{43,}$/);
    expect(res.body.name).toBe("Backend ✨ <prod>");
    expect(res.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const row = await env.DB.prepare("SELECT * FROM livekit_keys WHERE id = ?").bind(res.body.id).first<Record<string, string>>();
    expect(row!.secret_encrypted).not.toContain(res.body.api_secret);
    expect(JSON.stringify(row)).not.toContain(res.body.api_secret);

    const audit = await auditActions(org.id, res.body.id);
    expect(audit.map((a) => a.action)).toEqual(["livekit_key.created"]);
    expect(audit[0]!.actor_id).toBe(user.id);
    expect(audit[0]!.metadata).not.toContain(res.body.api_secret);
    expect(JSON.parse(audit[0]!.metadata).api_key).toBe(res.body.api_key);
  });

  it("can be created without a body, and every key is different", async () => {
    const { user, project } = await createTenant();
    const a = await call("POST", keysPath(project.id), { token: user.token });
    expect(a.status, a.text).toBe(201);
    const b = await createLivekitKey(user, project.id);
    expect(b.api_key).not.toBe(a.body.api_key);
    expect(b.api_secret).not.toBe(a.body.api_secret);
    expect(a.body.name).toBe("");
  });

  it("refuse unknown body fields", async () => {
    const { user, project } = await createTenant();
    expectEnvelope(await call("POST", keysPath(project.id), { token: user.token, body: { api_secret: "mine" } }), 400, "validation_failed");
  });

  it("are listed to members without the secret, and only admins create or delete them", async () => {
    const { user, org, project } = await createTenant();
    const key = await createLivekitKey(user, project.id);
    const member = await joinOrg(user, org.id, "member");
    const viewer = await joinOrg(user, org.id, "viewer");

    const list = await call("GET", keysPath(project.id), { token: member.token });
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([{ id: key.id, project_id: project.id, name: "", api_key: key.api_key, created_at: key.created_at }]);
    expect(list.text).not.toContain(key.api_secret);
    expect(list.body.next_cursor).toBeNull();

    expectEnvelope(await call("GET", keysPath(project.id), { token: viewer.token }), 403, "forbidden");
    expectEnvelope(await call("POST", keysPath(project.id), { token: member.token, body: {} }), 403, "forbidden");
    expectEnvelope(await call("DELETE", `${keysPath(project.id)}/${key.id}`, { token: member.token }), 403, "forbidden");
  });

  it("of another tenant are 404 on every route", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const key = await createLivekitKey(a.user, a.project.id);
    expectEnvelope(await call("GET", keysPath(a.project.id), { token: b.user.token }), 404, "not_found");
    expectEnvelope(await call("POST", keysPath(a.project.id), { token: b.user.token, body: {} }), 404, "not_found");
    expectEnvelope(await call("DELETE", `${keysPath(a.project.id)}/${key.id}`, { token: b.user.token }), 404, "not_found");
    // B's own project does not reach A's key either.
    expectEnvelope(await call("DELETE", `${keysPath(b.project.id)}/${key.id}`, { token: b.user.token }), 404, "not_found");
  });

  it("are deleted with 204, audited once, and disappear from the list", async () => {
    const { user, org, project } = await createTenant();
    const key = await createLivekitKey(user, project.id);
    expect((await call("DELETE", `${keysPath(project.id)}/${key.id}`, { token: user.token })).status).toBe(204);
    expect((await call("GET", keysPath(project.id), { token: user.token })).body.data).toEqual([]);
    expectEnvelope(await call("DELETE", `${keysPath(project.id)}/${key.id}`, { token: user.token }), 404, "not_found");
    expect((await auditActions(org.id, key.id)).map((a) => a.action)).toEqual(["livekit_key.created", "livekit_key.deleted"]);
  });

  it("are never a Pulse API key: their secret and key are refused on /v1/*", async () => {
    const { user, project } = await createTenant();
    const key = await createLivekitKey(user, project.id);
    for (const credential of [key.api_secret, key.api_key, `${key.api_key}:${key.api_secret}`]) {
      expectEnvelope(await call("POST", "/v1/tokens", { token: credential, body: { identity: "a", room: "r" } }), 401, "unauthenticated");
      expectEnvelope(
        await call("POST", "/v1/tokens", { headers: { "X-API-Key": credential }, body: { identity: "a", room: "r" } }),
        401,
        "unauthenticated",
      );
      expectEnvelope(await call("GET", "/v1/egress", { token: credential }), 401, "unauthenticated");
      expectEnvelope(await call("GET", keysPath(project.id), { token: credential }), 401, "unauthenticated");
    }
  });
});
