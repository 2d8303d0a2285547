import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PASSWORD_ITERATIONS } from "../../src/lib/secrets";
import { setClock } from "../../src/lib/clock";
import { call, expectEnvelope } from "../support/api";
import { createUser, PASSWORD } from "../support/factories";

describe("identity", () => {
  it("stores passwords peppered and with a slow KDF whose parameters travel with the hash", async () => {
    const user = await createUser();
    const row = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(user.id).first<{ password_hash: string }>();
    const [algorithm, iterations, salt, hash] = row!.password_hash.split("$");
    expect(algorithm).toBe("hmac-pbkdf2-sha256");
    expect(Number(iterations)).toBe(PASSWORD_ITERATIONS);
    expect(salt!.length).toBeGreaterThanOrEqual(16);
    expect(hash!.length).toBeGreaterThanOrEqual(32);
    expect(row!.password_hash).not.toContain(PASSWORD);
  });

  it("refuses a second account for the same email in any letter case", async () => {
    const user = await createUser();
    const again = await call("POST", "/v1/auth/signup", { body: { email: user.email.toUpperCase(), password: PASSWORD, name: "Dup" } });
    expectEnvelope(again, 409, "conflict");
  });

  it("enforces the contract's password length", async () => {
    for (const password of ["short", "x".repeat(257)]) {
      const res = await call("POST", "/v1/auth/signup", { body: { email: `p${password.length}@example.com`, password, name: "P" } });
      expect(expectEnvelope(res, 400, "validation_failed").details?.[0]?.path).toBe("password");
    }
  });

  it("gives one generic answer for a wrong password and an unknown email", async () => {
    const user = await createUser();
    const wrong = await call("POST", "/v1/auth/login", { body: { email: user.email, password: "not the password" } });
    const unknown = await call("POST", "/v1/auth/login", { body: { email: "nobody-here@example.com", password: "not the password" } });
    const a = expectEnvelope(wrong, 401, "unauthenticated");
    const b = expectEnvelope(unknown, 401, "unauthenticated");
    expect(a.message).toBe(b.message);
  });

  it("verifies a password hash even for unknown emails, so both failures cost the same KDF work", async () => {
    // Structural proof instead of a timing test: the unknown-email path runs the same PBKDF2.
    const digest = crypto.subtle.deriveBits.bind(crypto.subtle);
    let derivations = 0;
    crypto.subtle.deriveBits = ((...args: Parameters<SubtleCrypto["deriveBits"]>) => {
      derivations++;
      return digest(...args);
    }) as SubtleCrypto["deriveBits"];
    try {
      const user = await createUser();
      // Warm up: the dummy hash is made once per isolate, on first use.
      await call("POST", "/v1/auth/login", { body: { email: "warm-up@example.com", password: "not the password" } });
      derivations = 0;
      await call("POST", "/v1/auth/login", { body: { email: user.email, password: "not the password" } });
      const known = derivations;
      derivations = 0;
      await call("POST", "/v1/auth/login", { body: { email: "ghost@example.com", password: "not the password" } });
      expect(known).toBe(1);
      expect(derivations).toBe(1);
    } finally {
      crypto.subtle.deriveBits = digest;
    }
  });

  it("revokes the session on logout at once", async () => {
    const user = await createUser();
    expect((await call("GET", "/v1/me", { token: user.token })).status).toBe(200);
    expect((await call("POST", "/v1/auth/logout", { token: user.token })).status).toBe(204);
    expectEnvelope(await call("GET", "/v1/me", { token: user.token }), 401, "unauthenticated");
    expectEnvelope(await call("POST", "/v1/orgs", { token: user.token, body: { name: "x" } }), 401, "unauthenticated");
    // Other sessions of the same user stay valid.
    const login = await call("POST", "/v1/auth/login", { body: { email: user.email, password: PASSWORD } });
    expect((await call("GET", "/v1/me", { token: login.body.token })).status).toBe(200);
  });

  it("expires sessions after their lifetime", async () => {
    const user = await createUser();
    const me = await call("GET", "/v1/me", { token: user.token });
    expect(me.status).toBe(200);
    const row = await env.DB.prepare("SELECT expires_at FROM sessions WHERE user_id = ?").bind(user.id).first<{ expires_at: number }>();
    setClock(() => row!.expires_at + 1);
    expectEnvelope(await call("GET", "/v1/me", { token: user.token }), 401, "unauthenticated");
  });

  it("stores session tokens only as hashes", async () => {
    const user = await createUser();
    const rows = JSON.stringify((await env.DB.prepare("SELECT * FROM sessions WHERE user_id = ?").bind(user.id).all()).results);
    expect(rows).not.toContain(user.token);
  });

  it("refuses API keys on user routes and user sessions on API-key routes", async () => {
    expectEnvelope(await call("GET", "/v1/me", { token: "pulse_live_abc" }), 401, "unauthenticated");
    expectEnvelope(await call("GET", "/v1/me", { token: "garbage" }), 401, "unauthenticated");
    expectEnvelope(await call("GET", "/v1/me", { headers: { Authorization: "Basic Zm9vOmJhcg==" } }), 401, "unauthenticated");
  });
});
