import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { setClock } from "../../src/lib/clock";
import { call, expectEnvelope, freshIp } from "../support/api";
import { createUser, PASSWORD, type TestUser } from "../support/factories";
import { linkToken, mailbox, waitForMail } from "../support/mail";

const NEW_PASSWORD = "a brand new passphrase";

const forgot = (email: string) => call("POST", "/v1/auth/password/forgot", { body: { email }, ip: freshIp() });
const reset = (token: string, password = NEW_PASSWORD) => call("POST", "/v1/auth/password/reset", { body: { token, password }, ip: freshIp() });
const login = (email: string, password: string) => call("POST", "/v1/auth/login", { body: { email, password }, ip: freshIp() });

async function resetToken(user: TestUser, count = 1): Promise<string> {
  const mail = await waitForMail(user.email, /reset/i, { count });
  return linkToken(mail.text, "/reset-password");
}

async function signedInTwice(user: TestUser) {
  const second = await login(user.email, PASSWORD);
  expect(second.status).toBe(200);
  return second.body.token as string;
}

describe("forgotten passwords", () => {
  it("answers 202 with no body whether or not the address has an account, mailing only real accounts", async () => {
    const user = await createUser();
    const known = await forgot(user.email.toUpperCase());
    const unknown = await forgot(`nobody-${crypto.randomUUID()}@example.com`);
    expect([known.status, unknown.status]).toEqual([202, 202]);
    expect(known.text).toBe(unknown.text);
    const mail = await waitForMail(user.email, /reset/i);
    expect(mail.subject).toBe("Reset your Pulse password");
    expect(mail.text).toMatch(/http:\/\/127\.0\.0\.1:8787\/reset-password\?token=rst_[0-9A-Za-z]+/);
    const ghost = (await env.DB.prepare("SELECT COUNT(*) AS n FROM mail_outbox WHERE to_normalized LIKE 'nobody-%'").first<{ n: number }>())!;
    expect(ghost.n).toBe(0);
  });

  it("a reset sets the new password and revokes every session of the user", async () => {
    const user = await createUser();
    const other = await signedInTwice(user);
    expect((await forgot(user.email)).status).toBe(202);
    const res = await reset(await resetToken(user));
    expect(res.status, res.text).toBe(200);
    expect(res.body.user.id).toBe(user.id);

    for (const token of [user.token, other]) expectEnvelope(await call("GET", "/v1/me", { token }), 401, "unauthenticated");
    expectEnvelope(await login(user.email, PASSWORD), 401, "unauthenticated");
    expect((await login(user.email, NEW_PASSWORD)).status).toBe(200);
    const audit = await env.DB.prepare("SELECT action FROM audit_logs WHERE resource_id = ? AND action LIKE 'user.password_reset%' ORDER BY created_at").bind(user.id).all();
    expect(audit.results.map((a: any) => a.action)).toEqual(["user.password_reset_requested", "user.password_reset"]);
  });

  it("reset tokens are single use", async () => {
    const user = await createUser();
    await forgot(user.email);
    const token = await resetToken(user);
    expect((await reset(token)).status).toBe(200);
    const again = expectEnvelope(await reset(token, "yet another passphrase"), 400, "validation_failed");
    expect(again.details?.[0]?.path).toBe("token");
    expect((await login(user.email, NEW_PASSWORD)).status).toBe(200);
  });

  it("reset tokens expire after an hour", async () => {
    const user = await createUser();
    await forgot(user.email);
    const token = await resetToken(user);
    const t0 = Date.now();
    setClock(() => t0 + 3600_000 + 1_000);
    expectEnvelope(await reset(token), 400, "validation_failed");
    setClock(null);
    expect((await login(user.email, PASSWORD)).status).toBe(200);
  });

  it("a newer reset link retires the older one", async () => {
    const user = await createUser();
    await forgot(user.email);
    const first = await resetToken(user);
    await forgot(user.email);
    const second = await resetToken(user, 2);
    expect(second).not.toBe(first);
    expectEnvelope(await reset(first), 400, "validation_failed");
    expect((await reset(second)).status).toBe(200);
  });

  it("still answers 202 but mails nothing beyond 5 emails to the address in 15 minutes", async () => {
    const user = await createUser(); // the verification email was the first of five
    for (let i = 0; i < 6; i++) expect((await forgot(user.email)).status).toBe(202);
    await waitForMail(user.email, /reset/i, { count: 4 });
    // Give any (wrongly) deferred sixth or seventh send time to land.
    await new Promise((r) => setTimeout(r, 300));
    expect(await mailbox(user.email)).toHaveLength(5);
  });

  it("refuses a reset password outside the contract's length", async () => {
    const res = await reset("rst_whatever", "short");
    expect(expectEnvelope(res, 400, "validation_failed").details?.[0]?.path).toBe("password");
  });
});

describe("changing the password", () => {
  it("needs the current password, then revokes the user's other sessions and keeps this one", async () => {
    const user = await createUser();
    const other = await signedInTwice(user);
    const wrong = await call("POST", "/v1/me/password", { token: user.token, body: { current_password: "not it at all", new_password: NEW_PASSWORD } });
    expect(expectEnvelope(wrong, 400, "validation_failed").details?.[0]?.path).toBe("current_password");
    expect((await call("GET", "/v1/me", { token: other })).status).toBe(200);

    const res = await call("POST", "/v1/me/password", { token: user.token, body: { current_password: PASSWORD, new_password: NEW_PASSWORD } });
    expect(res.status, res.text).toBe(200);
    expect((await call("GET", "/v1/me", { token: user.token })).status).toBe(200);
    expectEnvelope(await call("GET", "/v1/me", { token: other }), 401, "unauthenticated");
    expect((await login(user.email, NEW_PASSWORD)).status).toBe(200);
    expectEnvelope(await login(user.email, PASSWORD), 401, "unauthenticated");
  });

  it("requires a session and a valid new password", async () => {
    expectEnvelope(await call("POST", "/v1/me/password", { body: { current_password: PASSWORD, new_password: NEW_PASSWORD } }), 401, "unauthenticated");
    const user = await createUser();
    const res = await call("POST", "/v1/me/password", { token: user.token, body: { current_password: PASSWORD, new_password: "short" } });
    expect(expectEnvelope(res, 400, "validation_failed").details?.[0]?.path).toBe("new_password");
  });
});
