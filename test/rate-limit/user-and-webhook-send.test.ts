import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setClock } from "../../src/lib/clock";
import { createTenant, createUser } from "../support/factories";
import { BASE } from "../support/api";
import { fetchWithEnv } from "../support/worker-env";
import { createEndpoint, fakeReceiver, pendingMessage, receiverHost } from "../support/webhook-receiver";

afterEach(() => {
  vi.restoreAllMocks();
});

function send(vars: Record<string, string>, method: string, path: string, token: string) {
  return fetchWithEnv(vars, new Request(`${BASE}${path}`, { method, headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": "203.0.113.10" } }));
}

describe("per-user limit on session routes", () => {
  it("limits one user's session requests to RATE_LIMIT_USER_PER_MIN with the headers, leaving other users alone", async () => {
    const vars = { RATE_LIMIT_USER_PER_MIN: "3" };
    // Fresh users: signing up and verifying are not session routes, so nothing is counted yet.
    const a = await createUser();
    const b = await createUser();
    const statuses: number[] = [];
    let last: Response | undefined;
    for (const path of ["/v1/me", "/v1/orgs", "/v1/me/sessions", "/v1/me"]) {
      last = await send(vars, "GET", path, a.token);
      statuses.push(last.status);
      if (statuses.length === 1) {
        expect(last.headers.get("RateLimit-Policy")).toBe(`"user";q=3;w=60`);
        expect(last.headers.get("RateLimit")).toMatch(/^"user";r=2;t=\d+$/);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const body = (await last!.json()) as any;
    expect(body.error.code).toBe("rate_limited");
    expect(Number(last!.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await send(vars, "GET", "/v1/me", b.token)).status).toBe(200);
  });
});

describe("dashboard pages of a session", () => {
  const page = (vars: Record<string, string>, path: string, token: string) =>
    fetchWithEnv(vars, new Request(`${BASE}${path}`, { headers: { Accept: "text/html", Cookie: `pulse_session=${token}`, "CF-Connecting-IP": "203.0.113.10" } }));

  it("count against the same per-user limit as the API: a page past it is a 429 page, and the budget is shared", async () => {
    const vars = { RATE_LIMIT_USER_PER_MIN: "3" };
    const user = await createUser();
    expect((await page(vars, "/account", user.token)).status).toBe(200);
    expect((await send(vars, "GET", "/v1/me", user.token)).status).toBe(200);
    expect((await page(vars, "/account", user.token)).status).toBe(200);
    const limited = await page(vars, "/account", user.token);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Content-Type")).toContain("text/html");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await limited.text()).toContain("Slow down");
    expect((await send(vars, "GET", "/v1/me", user.token)).status).toBe(429);
  });

  it("refresh the session's last_used_at, at most once a minute", async () => {
    const user = await createUser();
    const stored = async () =>
      (await env.DB.prepare("SELECT last_used_at FROM sessions WHERE user_id = ?").bind(user.id).first<{ last_used_at: number | null }>())!.last_used_at;
    const t0 = Date.now();
    setClock(() => t0 + 61_000);
    expect((await page({}, "/account", user.token)).status).toBe(200);
    expect(await stored()).toBe(t0 + 61_000);
    setClock(() => t0 + 90_000);
    await page({}, "/account", user.token);
    expect(await stored()).toBe(t0 + 61_000);
  });
});

describe("per-endpoint limit on on-demand webhook sends", () => {
  it("limits test and retry of one endpoint together to RATE_LIMIT_WEBHOOK_TEST_PER_MIN, leaving other endpoints alone", async () => {
    const vars = { RATE_LIMIT_WEBHOOK_TEST_PER_MIN: "2" };
    const { user, project } = await createTenant();
    const host = receiverHost();
    fakeReceiver(host, [200]);
    const one = await createEndpoint(user.token, project.id, { url: `https://${host}/one` });
    const two = await createEndpoint(user.token, project.id, { url: `https://${host}/two` });
    const msg = await pendingMessage(project.id, one.id);
    const base = `/v1/projects/${project.id}/webhooks`;

    expect((await send(vars, "POST", `${base}/${one.id}/test`, user.token)).status).toBe(202);
    expect((await send(vars, "POST", `${base}/${one.id}/deliveries/${msg.id}/retry`, user.token)).status).toBe(202);
    const limited = await send(vars, "POST", `${base}/${one.id}/test`, user.token);
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as any).error.code).toBe("rate_limited");
    expect(limited.headers.get("RateLimit-Policy")).toBe(`"webhook-test";q=2;w=60`);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await send(vars, "POST", `${base}/${one.id}/deliveries/${msg.id}/retry`, user.token)).status).toBe(429);
    expect((await send(vars, "POST", `${base}/${two.id}/test`, user.token)).status).toBe(202);
  });
});
