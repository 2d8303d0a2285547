import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call } from "../support/api";
import { DashboardClient } from "../support/dashboard";
import { createUser, PASSWORD } from "../support/factories";

const email = () => `dash-${crypto.randomUUID().slice(0, 8)}@example.com`;

describe("signing in to the dashboard", () => {
  it("signs up into an HttpOnly, SameSite=Lax session cookie the API also accepts", async () => {
    const client = new DashboardClient();
    const res = await client.post("/signup", { name: "Ada", email: email(), password: PASSWORD }, { from: "/signup" });
    expect(res.status).toBe(303);
    expect(res.location).toBe("/orgs/new");
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith("pulse_session="))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/); // development over http; production adds Secure
    const me = await call("GET", "/v1/me", { token: client.cookies.get("pulse_session") });
    expect(me.status).toBe(200);
  });

  it("shows a wrong password next to the field and sets no session", async () => {
    const user = await createUser();
    const client = new DashboardClient();
    const res = await client.post("/login", { email: user.email, password: "not the password" });
    expect(res.status).toBe(401);
    expect(res.html).toMatch(/id="f-password-error"[^>]*>Invalid email or password\./);
    expect(client.cookies.has("pulse_session")).toBe(false);
  });

  it("shows validation errors beside their fields and keeps what was typed", async () => {
    const client = new DashboardClient();
    const res = await client.post("/signup", { name: "Ada <b>", email: "not-an-email", password: "short" }, { from: "/signup" });
    expect(res.status).toBe(400);
    expect(res.html).toContain('id="f-email-error"');
    expect(res.html).toContain('id="f-password-error"');
    expect(res.html).toContain('value="Ada &lt;b&gt;"');
  });

  it("continues to a same-site next path after signing in, never to another site", async () => {
    const user = await createUser();
    const ok = await new DashboardClient().post("/login?next=%2Faccount", { email: user.email, password: PASSWORD });
    expect(ok.location).toBe("/account");
    const evil = await new DashboardClient().post("/login?next=%2F%2Fevil.example", { email: user.email, password: PASSWORD });
    expect(evil.location).toBe("/");
  });

  it("signs out by revoking the session, not just forgetting the cookie", async () => {
    const user = await createUser();
    const client = DashboardClient.signedIn(user.token);
    const res = await client.post("/logout", {}, { from: "/account" });
    expect(res.status).toBe(303);
    expect(res.location).toBe("/login");
    expect((await call("GET", "/v1/me", { token: user.token })).status).toBe(401);
    expect((await DashboardClient.signedIn(user.token).get("/account")).status).toBe(303);
  });
});

describe("emailed-link pages", () => {
  it("limits confirming an email and accepting an invitation per client IP, like the API, since each checks a secret", async () => {
    const limit = Number(env.RATE_LIMIT_IP_PER_MIN);
    const user = await createUser();
    for (const [path, client] of [
      ["/verify-email", new DashboardClient()],
      ["/invitations/accept", DashboardClient.signedIn(user.token)],
    ] as const) {
      const csrf = await client.csrf(path);
      const ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
      const guess = (i: number) => client.request("POST", path, new URLSearchParams({ _csrf: csrf, token: `guess-${i}` }), { "CF-Connecting-IP": ip });
      for (let i = 0; i < limit; i++) {
        const res = await guess(i);
        if (res.status === 429) throw new Error(`${path}: limited after ${i} guesses`);
      }
      const limited = await guess(limit);
      expect(limited.status, path).toBe(429);
      expect(Number(limited.headers.get("Retry-After")), path).toBeGreaterThan(0);
    }
  });

  it("reads the token from the query and marks the field the page script fills from a #token= fragment", async () => {
    const client = new DashboardClient();
    for (const path of ["/verify-email", "/reset-password", "/invitations/accept"]) {
      const withQuery = await client.get(`${path}?token=tok_from_query`);
      expect(withQuery.html, path).toMatch(/<input type="hidden" name="token" value="tok_from_query" data-fragment-token=""\/>/);
      expect(withQuery.html, path).not.toContain("data-fragment-hint");
      const bare = await client.get(path);
      expect(bare.html, path).toMatch(/<input type="hidden" name="token" value="" data-fragment-token=""\/>/);
      expect(bare.html, path).toContain("data-fragment-hint");
    }
  });
});

describe("CSRF", () => {
  it("refuses a state-changing form without a token or with a wrong one, and changes nothing", async () => {
    const user = await createUser();
    const client = DashboardClient.signedIn(user.token);
    const name = `csrf-${crypto.randomUUID()}`;
    const missing = await client.post("/orgs/new", { name }, { csrf: null });
    expect(missing.status).toBe(403);
    expect(missing.html).toContain("did not come from Pulse");
    const wrong = await client.post("/orgs/new", { name }, { csrf: "0".repeat(64) });
    expect(wrong.status).toBe(403);
    // A token from another person's page does not work either.
    const other = DashboardClient.signedIn((await createUser()).token);
    const foreign = await client.post("/orgs/new", { name }, { csrf: await other.csrf("/account") });
    expect(foreign.status).toBe(403);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM organizations WHERE name = ?").bind(name).first<{ n: number }>();
    expect(rows!.n).toBe(0);
    const ok = await client.post("/orgs/new", { name }, { from: "/account" });
    expect(ok.status).toBe(303);
  });

  it("refuses a signed-out form (sign-in) without the token of the visitor's own cookie", async () => {
    const user = await createUser();
    const res = await new DashboardClient().post("/login", { email: user.email, password: PASSWORD }, { csrf: null });
    expect(res.status).toBe(403);
  });
});
