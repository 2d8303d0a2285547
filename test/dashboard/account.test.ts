import { describe, expect, it } from "vitest";
import { call } from "../support/api";
import { DashboardClient, hasForm } from "../support/dashboard";
import { createUser, PASSWORD } from "../support/factories";
import { linkToken, waitForMail } from "../support/mail";

const NEW_PASSWORD = "a brand new passphrase 42";

async function loginWith(email: string, password: string) {
  return call("POST", "/v1/auth/login", { body: { email, password } });
}

async function secondSession(email: string): Promise<string> {
  const res = await loginWith(email, PASSWORD);
  expect(res.status).toBe(200);
  return res.body.token;
}

describe("forgot and reset password in the dashboard", () => {
  it("mails a reset link to an account, whose page sets a new password and signs out every session", async () => {
    const user = await createUser();
    const visitor = new DashboardClient();
    const forgot = await visitor.post("/forgot-password", { email: user.email }, { from: "/forgot-password" });
    expect(forgot.status).toBe(303);
    expect(forgot.location).toBe("/login");
    expect((await visitor.get("/login")).html).toContain("a link to reset its password is on its way");

    const mail = await waitForMail(user.email, /reset/i);
    const token = linkToken(mail.text, "/reset-password");
    const form = await visitor.get(`/reset-password?token=${encodeURIComponent(token)}`);
    expect(form.status).toBe(200);
    expect(form.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(form.html).toContain(`name="token" value="${token}"`);

    const done = await visitor.post("/reset-password", { token, password: NEW_PASSWORD }, { from: "/forgot-password" });
    expect(done.status).toBe(303);
    expect(done.location).toBe("/login");
    expect((await call("GET", "/v1/me", { token: user.token })).status).toBe(401);
    expect((await loginWith(user.email, PASSWORD)).status).toBe(401);
    expect((await loginWith(user.email, NEW_PASSWORD)).status).toBe(200);

    // The link works once.
    const again = await visitor.post("/reset-password", { token, password: "yet another passphrase" }, { from: "/forgot-password" });
    expect(again.status).toBe(400);
    expect(again.html).toContain("Ask for a new link");
  });

  it("answers an address without an account exactly like one with, and mails nothing", async () => {
    const visitor = new DashboardClient();
    const email = `nobody-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const res = await visitor.post("/forgot-password", { email }, { from: "/forgot-password" });
    expect(res.status).toBe(303);
    expect(res.location).toBe("/login");
    const box = await call("GET", `/v1/dev/mailbox?to=${encodeURIComponent(email)}`);
    expect(box.body.data).toEqual([]);
  });

  it("takes the token from the link's fragment through the page's form, and refuses a wrong one beside the form", async () => {
    const visitor = new DashboardClient();
    const bare = await visitor.get("/reset-password");
    expect(bare.status).toBe(200);
    // The fragment never reaches the server: the hidden field is there for the script to fill.
    expect(bare.html).toContain('data-fragment-token=""');
    const wrong = await visitor.post("/reset-password", { token: "rst_not-a-real-token", password: NEW_PASSWORD }, { from: "/reset-password" });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('role="alert"');
    const short = await visitor.post("/reset-password", { token: "rst_x", password: "short" }, { from: "/reset-password" });
    expect(short.status).toBe(400);
    expect(short.html).toContain('id="f-password-error"');
  });

  it("refuses the reset and forgot forms without the visitor's CSRF token", async () => {
    const user = await createUser();
    const visitor = new DashboardClient();
    expect((await visitor.post("/forgot-password", { email: user.email }, { csrf: null })).status).toBe(403);
    expect((await visitor.post("/reset-password", { token: "rst_x", password: NEW_PASSWORD }, { csrf: "0".repeat(64) })).status).toBe(403);
  });
});

describe("the account page: password and sessions", () => {
  it("changes the password with the current one, keeps this session and signs out the others", async () => {
    const user = await createUser();
    const other = await secondSession(user.email);
    const client = DashboardClient.signedIn(user.token);
    const wrong = await client.post("/account/password", { current_password: "not it at all", new_password: NEW_PASSWORD }, { from: "/account" });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toMatch(/id="f-current_password-error"[^>]*>The current password is not correct\./);
    expect((await loginWith(user.email, PASSWORD)).status).toBe(200);

    const ok = await client.post("/account/password", { current_password: PASSWORD, new_password: NEW_PASSWORD }, { from: "/account" });
    expect(ok.status).toBe(303);
    expect((await client.get("/account")).html).toContain("Password changed");
    expect((await call("GET", "/v1/me", { token: user.token })).status).toBe(200);
    expect((await call("GET", "/v1/me", { token: other })).status).toBe(401);
    expect((await loginWith(user.email, NEW_PASSWORD)).status).toBe(200);
  });

  it("lists the live sessions, marks this one, revokes another and then all others", async () => {
    const user = await createUser();
    const second = await secondSession(user.email);
    const third = await secondSession(user.email);
    const client = DashboardClient.signedIn(user.token);
    const page = await client.get("/account");
    expect(page.status).toBe(200);
    const ids = [...page.html.matchAll(/data-row="([^"]+)"/g)].map((m) => m[1]!);
    expect(ids).toHaveLength(3);
    expect(page.html.match(/>this session</g)).toHaveLength(1);
    expect(hasForm(page.html, "/account/sessions/revoke-all")).toBe(true);

    const listed = await call("GET", "/v1/me/sessions", { token: second });
    const secondId = listed.body.data.find((s: any) => s.current).id as string;
    const revoked = await client.post(`/account/sessions/${secondId}/revoke`, {}, { from: "/account" });
    expect(revoked.status).toBe(303);
    expect((await call("GET", "/v1/me", { token: second })).status).toBe(401);
    expect((await call("GET", "/v1/me", { token: third })).status).toBe(200);

    const all = await client.post("/account/sessions/revoke-all", {}, { from: "/account" });
    expect(all.status).toBe(303);
    expect((await client.get("/account")).html).toContain("1 other session signed out.");
    expect((await call("GET", "/v1/me", { token: third })).status).toBe(401);
    expect((await call("GET", "/v1/me", { token: user.token })).status).toBe(200);
  });

  it("answers 404 for another person's session and keeps it alive; revoking this one signs out", async () => {
    const user = await createUser();
    const stranger = await createUser();
    const theirs = (await call("GET", "/v1/me/sessions", { token: stranger.token })).body.data[0].id as string;
    const client = DashboardClient.signedIn(user.token);
    const forged = await client.post(`/account/sessions/${theirs}/revoke`, {}, { from: "/account" });
    expect(forged.status).toBe(404);
    expect((await call("GET", "/v1/me", { token: stranger.token })).status).toBe(200);

    const mine = (await call("GET", "/v1/me/sessions", { token: user.token })).body.data[0].id as string;
    const out = await client.post(`/account/sessions/${mine}/revoke`, {}, { from: "/account" });
    expect(out.status).toBe(303);
    expect(out.location).toBe("/login");
    expect(client.cookies.has("pulse_session")).toBe(false);
    expect((await call("GET", "/v1/me", { token: user.token })).status).toBe(401);
  });

  it("refuses the password and session forms without the CSRF token, changing nothing", async () => {
    const user = await createUser();
    const second = await secondSession(user.email);
    const client = DashboardClient.signedIn(user.token);
    expect((await client.post("/account/password", { current_password: PASSWORD, new_password: NEW_PASSWORD }, { csrf: null })).status).toBe(403);
    expect((await client.post("/account/sessions/revoke-all", {}, { csrf: "0".repeat(64) })).status).toBe(403);
    expect((await call("GET", "/v1/me", { token: second })).status).toBe(200);
    expect((await loginWith(user.email, PASSWORD)).status).toBe(200);
  });
});
