import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { setClock } from "../../src/lib/clock";
import { call, expectEnvelope } from "../support/api";
import { createUser, PASSWORD } from "../support/factories";

async function loginFrom(email: string, ip: string, userAgent: string) {
  const res = await call("POST", "/v1/auth/login", { body: { email, password: PASSWORD }, ip, headers: { "User-Agent": userAgent } });
  expect(res.status).toBe(200);
  return res.body.token as string;
}

const lastUsed = async (token: string) => {
  const list = await call("GET", "/v1/me/sessions", { token });
  return list.body.data.find((s: any) => s.current).last_used_at as string | null;
};

describe("the signed-in user's sessions", () => {
  it("lists live sessions newest first with where they came from and which one is current", async () => {
    const user = await createUser();
    const laptop = await loginFrom(user.email, "203.0.113.77", "Laptop/1.0");
    const phone = await loginFrom(user.email, "203.0.113.78", "Phone/2.0");
    const res = await call("GET", "/v1/me/sessions", { token: phone });
    expect(res.status).toBe(200);
    expect(res.body.next_cursor).toBeNull();
    expect(res.body.data).toHaveLength(3);
    expect(res.body.data.slice(0, 2)).toMatchObject([
      { ip: "203.0.113.78", user_agent: "Phone/2.0", current: true },
      { ip: "203.0.113.77", user_agent: "Laptop/1.0", current: false },
    ]);
    for (const s of res.body.data) {
      expect(s.id).toMatch(/^ses_/);
      expect(Object.keys(s).sort()).toEqual(["created_at", "current", "expires_at", "id", "ip", "last_used_at", "user_agent"]);
    }
    expect(res.text).not.toContain(laptop);
    const page = await call("GET", "/v1/me/sessions?limit=1", { token: phone });
    expect(page.body.data).toHaveLength(1);
    const next = await call("GET", `/v1/me/sessions?limit=2&cursor=${page.body.next_cursor}`, { token: phone });
    expect(next.body.data.map((s: any) => s.ip)).toEqual(["203.0.113.77", res.body.data[2].ip]);
  });

  it("updates last_used_at at most once a minute per session", async () => {
    const user = await createUser();
    const stored = async () =>
      (await env.DB.prepare("SELECT last_used_at FROM sessions WHERE user_id = ?").bind(user.id).first<{ last_used_at: number }>())!.last_used_at;
    const t0 = Date.now();
    setClock(() => t0 + 61_000);
    await call("GET", "/v1/me", { token: user.token });
    await vi.waitFor(async () => expect(await stored()).toBe(t0 + 61_000));
    setClock(() => t0 + 90_000);
    await call("GET", "/v1/me", { token: user.token });
    await new Promise((r) => setTimeout(r, 100)); // room for a (wrong) deferred write to land
    expect(await stored()).toBe(t0 + 61_000);
    expect(await lastUsed(user.token)).toBe(new Date(Math.floor((t0 + 61_000) / 1000) * 1000).toISOString().replace(".000Z", "Z"));
    setClock(() => t0 + 125_000);
    await call("GET", "/v1/me", { token: user.token });
    await vi.waitFor(async () => expect(await stored()).toBe(t0 + 125_000));
  });

  it("revokes one session by id, and answers 404 for another user's session", async () => {
    const user = await createUser();
    const other = await loginFrom(user.email, "203.0.113.90", "Other/1.0");
    const list = await call("GET", "/v1/me/sessions", { token: user.token });
    const otherId = list.body.data.find((s: any) => !s.current).id;
    const stranger = await createUser();
    expectEnvelope(await call("DELETE", `/v1/me/sessions/${otherId}`, { token: stranger.token }), 404, "not_found");
    expect((await call("GET", "/v1/me", { token: other })).status).toBe(200);

    expect((await call("DELETE", `/v1/me/sessions/${otherId}`, { token: user.token })).status).toBe(204);
    expectEnvelope(await call("GET", "/v1/me", { token: other }), 401, "unauthenticated");
    expectEnvelope(await call("DELETE", `/v1/me/sessions/${otherId}`, { token: user.token }), 404, "not_found");
    const audit = await env.DB.prepare("SELECT actor_id FROM audit_logs WHERE action = 'session.revoked' AND resource_id = ?").bind(otherId).all();
    expect(audit.results).toEqual([{ actor_id: user.id }]);
  });

  it("revoke-all signs out every other session and keeps the current one", async () => {
    const user = await createUser();
    const a = await loginFrom(user.email, "203.0.113.91", "A/1.0");
    const b = await loginFrom(user.email, "203.0.113.92", "B/1.0");
    const res = await call("POST", "/v1/me/sessions/revoke-all", { token: b });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ revoked: 2 });
    for (const token of [user.token, a]) expectEnvelope(await call("GET", "/v1/me", { token }), 401, "unauthenticated");
    const list = await call("GET", "/v1/me/sessions", { token: b });
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0].current).toBe(true);
  });

  it("needs a session for every /v1/me/sessions route", async () => {
    expectEnvelope(await call("GET", "/v1/me/sessions"), 401, "unauthenticated");
    expectEnvelope(await call("DELETE", "/v1/me/sessions/ses_x"), 401, "unauthenticated");
    expectEnvelope(await call("POST", "/v1/me/sessions/revoke-all"), 401, "unauthenticated");
  });
});
