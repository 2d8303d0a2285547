import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { setClock } from "../../src/lib/clock";
import { sha256Hex } from "../../src/lib/secrets";
import { call, expectEnvelope, freshIp } from "../support/api";
import { accept, invite } from "../support/team";
import { createOrg, createUser, PASSWORD } from "../support/factories";
import { linkToken, mailbox, verificationToken } from "../support/mail";

const HOUR = 3600_000;
const uniqueEmail = (tag: string) => `${tag}-${crypto.randomUUID()}@example.com`;

async function signUp(email: string) {
  const res = await call("POST", "/v1/auth/signup", { body: { email, password: PASSWORD, name: "New" }, ip: freshIp() });
  expect(res.status, res.text).toBe(201);
  return res.body as { user: { id: string; email_verified_at: string | null }; token: string };
}

const verify = (token: string) => call("POST", "/v1/auth/verify-email", { body: { token }, ip: freshIp() });

describe("email verification", () => {
  it("leaves a new account unverified and mails a single-use link to the dashboard's verify page", async () => {
    const email = uniqueEmail("verify");
    const signup = await signUp(email);
    expect(signup.user.email_verified_at).toBeNull();
    const [mail] = await mailbox(email);
    expect(mail).toMatchObject({ to: email, subject: "Verify your email address for Pulse" });
    expect(mail!.text).toMatch(/http:\/\/127\.0\.0\.1:8787\/verify-email\?token=vrf_[0-9A-Za-z]+/);
    const token = linkToken(mail!.text, "/verify-email");

    // Stored only as its hash.
    const dump = JSON.stringify((await env.DB.prepare("SELECT * FROM user_tokens WHERE user_id = ?").bind(signup.user.id).all()).results);
    expect(dump).toContain(await sha256Hex(token));
    expect(dump).not.toContain(token);

    const res = await verify(token);
    expect(res.status, res.text).toBe(200);
    expect(res.body.user.id).toBe(signup.user.id);
    expect(Date.parse(res.body.user.email_verified_at)).toBeGreaterThan(Date.now() - 60_000);
    const me = await call("GET", "/v1/me", { token: signup.token });
    expect(me.body.user.email_verified_at).toBe(res.body.user.email_verified_at);

    // Single use: the same link again is refused, and changes nothing.
    const again = expectEnvelope(await verify(token), 400, "validation_failed");
    expect(again.details?.[0]?.path).toBe("token");
    const audit = await env.DB.prepare("SELECT action FROM audit_logs WHERE resource_id = ? AND action = 'user.email_verified'").bind(signup.user.id).all();
    expect(audit.results).toHaveLength(1);
  });

  it("refuses a verification link after 24 hours", async () => {
    const email = uniqueEmail("late");
    const signup = await signUp(email);
    const token = await verificationToken(email);
    const t0 = Date.now();
    setClock(() => t0 + 24 * HOUR + 1_000);
    expectEnvelope(await verify(token), 400, "validation_failed");
    setClock(null);
    const me = await call("GET", "/v1/me", { token: signup.token });
    expect(me.body.user.email_verified_at).toBeNull();
  });

  it("refuses unknown and malformed tokens with the same answer", async () => {
    const unknown = expectEnvelope(await verify("vrf_doesnotexist"), 400, "validation_failed");
    const junk = expectEnvelope(await verify("x"), 400, "validation_failed");
    expect(unknown.message).toBe(junk.message);
    expectEnvelope(await call("POST", "/v1/auth/verify-email", { body: { token: "vrf_x", extra: 1 } }), 400, "validation_failed");
  });

  it("resends a fresh link that replaces the old one, and says 409 once verified", async () => {
    const email = uniqueEmail("resend");
    const signup = await signUp(email);
    const first = await verificationToken(email);
    const resend = await call("POST", "/v1/auth/verify-email/resend", { token: signup.token });
    expect(resend.status, resend.text).toBe(202);
    // The old link's retirement is audited with the resend, as the signed-in user.
    const audited = await env.DB.prepare("SELECT actor_type, actor_id FROM audit_logs WHERE action = 'user.verification_resent' AND resource_id = ?").bind(signup.user.id).all();
    expect(audited.results).toEqual([{ actor_type: "user", actor_id: signup.user.id }]);
    const mails = await mailbox(email);
    expect(mails).toHaveLength(2);
    const second = linkToken(mails[0]!.text, "/verify-email");
    expect(second).not.toBe(first);
    expectEnvelope(await verify(first), 400, "validation_failed");
    expect((await verify(second)).status).toBe(200);
    expectEnvelope(await call("POST", "/v1/auth/verify-email/resend", { token: signup.token }), 409, "conflict");
    expectEnvelope(await call("POST", "/v1/auth/verify-email/resend"), 401, "unauthenticated");
  });

  it("sends at most 5 emails to one address in 15 minutes: the 6th resend is 429 with Retry-After and sends nothing", async () => {
    const email = uniqueEmail("flood");
    const signup = await signUp(email); // mail 1
    for (let i = 0; i < 4; i++) expect((await call("POST", "/v1/auth/verify-email/resend", { token: signup.token })).status).toBe(202);
    const limited = await call("POST", "/v1/auth/verify-email/resend", { token: signup.token });
    expectEnvelope(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await mailbox(email)).toHaveLength(5);
  });

  it("counts no mail for a signup refused because the email is taken, so strangers cannot use up its 5", async () => {
    const email = uniqueEmail("taken");
    const signup = await signUp(email); // mail 1
    for (let i = 0; i < 6; i++) {
      const again = await call("POST", "/v1/auth/signup", { body: { email, password: PASSWORD, name: "Squatter" }, ip: freshIp() });
      expectEnvelope(again, 409, "conflict");
    }
    for (let i = 0; i < 4; i++) expect((await call("POST", "/v1/auth/verify-email/resend", { token: signup.token })).status).toBe(202);
    expectEnvelope(await call("POST", "/v1/auth/verify-email/resend", { token: signup.token }), 429, "rate_limited");
    expect(await mailbox(email)).toHaveLength(5);
  });
});

describe("invitations need a verified email", () => {
  it("walks signup → verify → invite → accept with the dev mailbox", async () => {
    const owner = await createUser();
    const org = await createOrg(owner, "Walk Inc");
    const email = uniqueEmail("walk");
    const invited = await invite(owner, org.id, email, "member");
    expect(invited.status, invited.text).toBe(201);

    // The invitee finds the invitation in their inbox, with the same accept link the API returned once.
    const [invitationMail] = await mailbox(email);
    expect(invitationMail!.subject).toBe("You are invited to join Walk Inc on Pulse");
    expect(invitationMail!.text).toContain(invited.body.accept_url);
    const invitationToken = linkToken(invitationMail!.text, "/invitations/accept");
    expect(invitationToken).toBe(invited.body.token);

    const signup = await signUp(email);
    const verifyMail = (await mailbox(email)).find((m) => m.subject.startsWith("Verify"))!;
    expect((await verify(linkToken(verifyMail.text, "/verify-email"))).status).toBe(200);

    const accepted = await accept({ id: signup.user.id, email, token: signup.token }, invitationToken);
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body.organization).toMatchObject({ id: org.id, role: "member" });
  });

  it("refuses an unverified invitee with 403 naming the reason, and changes nothing", async () => {
    const owner = await createUser();
    const org = await createOrg(owner);
    const invitee = await createUser({ verified: false });
    const invited = await invite(owner, org.id, invitee.email, "member");
    const refused = expectEnvelope(await accept(invitee, invited.body.token), 403, "forbidden");
    expect(refused.message).toMatch(/verify your email/i);
    const members = await call("GET", `/v1/orgs/${org.id}/members`, { token: owner.token });
    expect(members.body.data.map((m: any) => m.user_id ?? m.id)).not.toContain(invitee.id);
    const pending = await call("GET", `/v1/orgs/${org.id}/invitations`, { token: owner.token });
    expect(pending.body.data.map((i: any) => i.id)).toContain(invited.body.id);
  });

  it("still makes the invitation but mails nothing beyond 5 emails to the address in 15 minutes", async () => {
    const owner = await createUser();
    const org = await createOrg(owner);
    const email = uniqueEmail("invite-flood");
    for (let i = 0; i < 6; i++) {
      const res = await invite(owner, org.id, email, "member");
      expect(res.status, res.text).toBe(201);
      expect(res.body.token).toBeTruthy();
    }
    expect(await mailbox(email)).toHaveLength(5);
  });
});
