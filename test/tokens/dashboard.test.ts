import { env } from "cloudflare:workers";
import { TokenVerifier } from "livekit-server-sdk";
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createTenant, createUser } from "../support/factories";
import { joinOrg } from "../support/team";

describe("minting a token from the dashboard", () => {
  it("gives a member a LiveKit token for the project's own room, verified as LiveKit would", async () => {
    const { user, project } = await createTenant();
    const res = await call("POST", `/v1/projects/${project.id}/tokens`, {
      token: user.token,
      body: { identity: "tester", room: "lobby", name: "Test 🎥", grants: { can_publish: false } },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ room: "lobby", identity: "tester" });
    const claims = await new TokenVerifier(env.LIVEKIT_API_KEY!, env.LIVEKIT_API_SECRET!).verify(res.body.token);
    expect(claims.sub).toBe("tester");
    expect(claims.name).toBe("Test 🎥");
    expect(claims.video).toMatchObject({ roomJoin: true, room: `${project.id}:lobby`, canPublish: false, canSubscribe: true });
  });

  it("applies the same rules as the API: refused grants, strict body", async () => {
    const { user, project } = await createTenant();
    const refused = await call("POST", `/v1/projects/${project.id}/tokens`, {
      token: user.token,
      body: { identity: "x", room: "lobby", grants: { room_create: true } },
    });
    expectEnvelope(refused, 400, "validation_failed");
    expectEnvelope(await call("POST", `/v1/projects/${project.id}/tokens`, { token: user.token, body: { identity: "x", room: "lobby", extra: 1 } }), 400, "validation_failed");
    const reserved = await call("POST", `/v1/projects/${project.id}/tokens`, { token: user.token, body: { identity: "x", room: "lobby", attributes: { "lk.agent.state": "idle" } } });
    expect(expectEnvelope(reserved, 400, "validation_failed").details).toEqual([{ path: "attributes.lk.agent.state", message: expect.stringContaining("reserved") }]);
  });

  it("keeps room_admin and hidden tokens to admins: a member is refused by path, nothing minted or audited", async () => {
    const { user: owner, org, project } = await createTenant();
    const member = await joinOrg(owner, org.id, "member");
    const admin = await joinOrg(owner, org.id, "admin");
    const mint = (token: string, grants: Record<string, boolean>) => call("POST", `/v1/projects/${project.id}/tokens`, { token, body: { identity: "x", room: "lobby", grants } });

    // Named in the message: `details` are for validation errors only.
    const refused = expectEnvelope(await mint(member.token, { room_admin: true, hidden: true, can_publish: true }), 403, "forbidden");
    expect([refused.message, refused.details]).toEqual([expect.stringContaining("grants.room_admin and grants.hidden"), undefined]);
    const hidden = expectEnvelope(await mint(member.token, { hidden: true }), 403, "forbidden");
    expect([hidden.message, hidden.details]).toEqual([expect.stringMatching(/with grants\.hidden:/), undefined]);
    const minted = () => env.DB.prepare("SELECT COUNT(*) AS n FROM audit_logs WHERE project_id = ? AND action = 'token.minted'").bind(project.id).first<{ n: number }>();
    expect((await minted())!.n).toBe(0);

    // Saying false is not asking for them; admins and owners may.
    expect((await mint(member.token, { room_admin: false, hidden: false })).status).toBe(201);
    for (const token of [admin.token, owner.token]) {
      const res = await mint(token, { room_admin: true, hidden: true });
      expect(res.status).toBe(201);
      const claims = await new TokenVerifier(env.LIVEKIT_API_KEY!, env.LIVEKIT_API_SECRET!).verify(res.body.token);
      expect(claims.video).toMatchObject({ roomAdmin: true, hidden: true, room: `${project.id}:lobby` });
    }
    expect((await minted())!.n).toBe(3);
  });

  it("counts the token as usage of the project", async () => {
    const { user, project } = await createTenant();
    for (let i = 0; i < 3; i++) {
      expect((await call("POST", `/v1/projects/${project.id}/tokens`, { token: user.token, body: { identity: `t${i}`, room: "lobby" } })).status).toBe(201);
    }
    // Metering flushes in the background shortly after the response.
    let total = 0;
    for (let tries = 0; tries < 50 && total < 3; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      const row = await env.DB.prepare("SELECT COALESCE(SUM(quantity), 0) AS n FROM usage_events WHERE project_id = ? AND meter = 'tokens_issued'").bind(project.id).first<{ n: number }>();
      total = row!.n;
    }
    expect(total).toBe(3);
  });

  it("stops at the free plan's quota like the API does (402)", async () => {
    const { user, org, project } = await createTenant(); // new orgs are on the free plan
    await env.DB.prepare(
      "INSERT INTO usage_events (id, project_id, org_id, meter, quantity, occurred_at, source_id, created_at) VALUES (?, ?, ?, 'tokens_issued', 100000, ?, ?, ?)",
    )
      .bind(`use_dash${project.id}`, project.id, org.id, Date.now(), `test:${project.id}`, Date.now())
      .run();
    expectEnvelope(await call("POST", `/v1/projects/${project.id}/tokens`, { token: user.token, body: { identity: "x", room: "r" } }), 402, "quota_exceeded");
  });

  it("is refused to outsiders with 404 and to API keys with 401", async () => {
    const { project, key } = await createTenant();
    const outsider = await createUser();
    expectEnvelope(await call("POST", `/v1/projects/${project.id}/tokens`, { token: outsider.token, body: { identity: "x", room: "r" } }), 404, "not_found");
    expectEnvelope(await call("POST", `/v1/projects/${project.id}/tokens`, { token: key.secret, body: { identity: "x", room: "r" } }), 401, "unauthenticated");
  });
});
