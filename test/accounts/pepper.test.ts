import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { verifyPassword } from "../../src/lib/secrets";
import { call, expectEnvelope } from "../support/api";
import { createUser, PASSWORD } from "../support/factories";

function b64(bytes: ArrayBuffer | Uint8Array) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)));
}

/** A hash as round 1 stored it (PBKDF2 of the bare password), made independently of src/. */
async function legacyHash(password: string) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: 100_000 }, key, 256);
  return `pbkdf2-sha256$100000$${b64(salt)}$${b64(bits)}`;
}

const storedHash = async (userId: string) =>
  (await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(userId).first<{ password_hash: string }>())!.password_hash;

describe("password pepper", () => {
  it("logs in a user whose hash predates the pepper and upgrades the hash to a peppered one", async () => {
    const user = await createUser();
    const old = await legacyHash(PASSWORD);
    await env.DB.prepare("UPDATE users SET password_hash = ? WHERE id = ?").bind(old, user.id).run();

    const first = await call("POST", "/v1/auth/login", { body: { email: user.email, password: PASSWORD } });
    expect(first.status, first.text).toBe(200);
    const upgraded = await storedHash(user.id);
    expect(upgraded).not.toBe(old);
    expect(upgraded.split("$")[0]).toBe("hmac-pbkdf2-sha256");
    // The upgraded hash works, and a wrong password still fails against it.
    expect((await call("POST", "/v1/auth/login", { body: { email: user.email, password: PASSWORD } })).status).toBe(200);
    expectEnvelope(await call("POST", "/v1/auth/login", { body: { email: user.email, password: "not the password" } }), 401, "unauthenticated");
  });

  it("makes hashes that the database alone cannot check: without the pepper the password does not verify", async () => {
    const user = await createUser();
    const hash = await storedHash(user.id);
    expect(await verifyPassword(PASSWORD, hash, env.PASSWORD_PEPPER!)).toBe(true);
    expect(await verifyPassword(PASSWORD, hash, "some-other-pepper-0123456789-0123456789")).toBe(false);
    // Nor is it plain PBKDF2 of the password with the stored salt.
    const [, iterations, salt] = hash.split("$");
    const plain = `pbkdf2-sha256$${iterations}$${salt}$${hash.split("$")[3]}`;
    expect(await verifyPassword(PASSWORD, plain, env.PASSWORD_PEPPER!)).toBe(false);
  });

  it("does not rewrite a hash that is already peppered", async () => {
    const user = await createUser();
    const before = await storedHash(user.id);
    expect((await call("POST", "/v1/auth/login", { body: { email: user.email, password: PASSWORD } })).status).toBe(200);
    expect(await storedHash(user.id)).toBe(before);
  });
});
