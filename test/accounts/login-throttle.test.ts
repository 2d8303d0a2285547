import { describe, expect, it } from "vitest";
import { setClock } from "../../src/lib/clock";
import { call, expectEnvelope } from "../support/api";
import { createUser, PASSWORD } from "../support/factories";

const attempt = (email: string, password: string, ip: string) => call("POST", "/v1/auth/login", { body: { email, password }, ip });

describe("login throttling per account", () => {
  it("answers the 11th bad password for one email within 15 minutes with 429, even from a new IP", async () => {
    const user = await createUser();
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) {
      setClock(() => t0 + i * 60_000);
      expectEnvelope(await attempt(user.email, `wrong password ${i}`, "192.0.2.201"), 401, "unauthenticated");
    }
    setClock(() => t0 + 10 * 60_000);
    const limited = await attempt(user.email, "wrong password 10", "198.18.0.99");
    const error = expectEnvelope(limited, 429, "rate_limited");
    expect(error.message).toMatch(/this account/);
    // The first failure leaves the window 15 minutes after it was made: 5 minutes from now.
    expect(limited.headers.get("Retry-After")).toBe("300");
    expect(limited.headers.get("RateLimit-Policy")).toBe(`"account";q=10;w=900`);
    // The right password does not get through either, in any letter case of the email.
    expectEnvelope(await attempt(user.email.toUpperCase(), PASSWORD, "198.18.0.100"), 429, "rate_limited");
    // Sessions already signed in are not affected.
    expect((await call("GET", "/v1/me", { token: user.token })).status).toBe(200);

    // Once the oldest failure leaves the window, one more attempt is allowed.
    setClock(() => t0 + 15 * 60_000 + 1);
    expect((await attempt(user.email, PASSWORD, "198.18.0.101")).status).toBe(200);
  });

  it("does not count successful sign-ins toward the limit", async () => {
    const user = await createUser();
    for (let i = 0; i < 9; i++) expect((await attempt(user.email, `wrong ${i}`, "192.0.2.202")).status).toBe(401);
    for (let i = 0; i < 3; i++) expect((await attempt(user.email, PASSWORD, "192.0.2.202")).status).toBe(200);
    expect((await attempt(user.email, "wrong 9", "192.0.2.202")).status).toBe(401);
    expectEnvelope(await attempt(user.email, "wrong 10", "192.0.2.202"), 429, "rate_limited");
  });

  it("throttles an email without an account the same way, so the throttle reveals nothing", async () => {
    const email = `ghost-${crypto.randomUUID()}@example.com`;
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => attempt(email, "whatever pass", `192.0.2.${210 + (i % 5)}`)));
    expect(statuses.map((r) => r.status).sort()).toEqual([...Array(10).fill(401), 429, 429]);
  });

  it("counts wrong current passwords on the change-password route toward the same limit", async () => {
    const user = await createUser();
    for (let i = 0; i < 10; i++) {
      const res = await call("POST", "/v1/me/password", { token: user.token, body: { current_password: `wrong ${i}`, new_password: "a new passphrase" } });
      expect(res.status).toBe(400);
    }
    expectEnvelope(await attempt(user.email, PASSWORD, "192.0.2.220"), 429, "rate_limited");
  });
});
