import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setClock } from "../../src/lib/clock";
import { sha256Hex } from "../../src/lib/secrets";
import { call, expectEnvelope } from "../support/api";
import { createApiKey, createTenant } from "../support/factories";
import { fetchWithEnv } from "../support/worker-env";

const whoami = (secret: string) => call("GET", "/v1/api-key", { token: secret });


/**
 * The real rate limiter, except that the first revocation announcement first runs `meanwhile`: a
 * change that lands between a route's read of the key and its write. Records what was announced.
 */
function limiterWithRace(meanwhile: () => Promise<unknown>) {
  const announced: string[][] = [];
  let raced = false;
  const binding = {
    idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
    get: (id: DurableObjectId) => {
      const real = env.RATE_LIMITER.get(id);
      return {
        hit: (...args: Parameters<typeof real.hit>) => real.hit(...args),
        revokeCredentials: async (hashes: string[]) => {
          announced.push(hashes);
          if (!raced) {
            raced = true;
            await meanwhile();
          }
          return real.revokeCredentials(hashes);
        },
      };
    },
  };
  return { binding, announced };
}

afterEach(() => vi.restoreAllMocks());

describe("project API keys", () => {
  it("authenticate until revoked, then 401 at once", async () => {
    const { user, project, key } = await createTenant();
    expect((await whoami(key.secret)).status).toBe(200);
    const revoke = await call("DELETE", `/v1/projects/${project.id}/keys/${key.id}`, { token: user.token });
    expect(revoke.status).toBe(204);
    expectEnvelope(await whoami(key.secret), 401, "unauthenticated");
    // Revoking again is harmless.
    expect((await call("DELETE", `/v1/projects/${project.id}/keys/${key.id}`, { token: user.token })).status).toBe(204);
    const list = await call("GET", `/v1/projects/${project.id}/keys`, { token: user.token });
    expect(list.body.data[0].revoked_at).not.toBeNull();
  });

  it("kill the old secret at once when rolled, and the new one works", async () => {
    const { user, project, key } = await createTenant();
    // Used first, so this isolate has the key cached: the roll must still kill it at once.
    expect((await whoami(key.secret)).status).toBe(200);
    const rolled = await call("POST", `/v1/projects/${project.id}/keys/${key.id}/roll`, { token: user.token });
    expect(rolled.status).toBe(201);
    expect(rolled.body.id).toBe(key.id);
    expect(rolled.body.secret).not.toBe(key.secret);
    expect(rolled.body.prefix).not.toBe(key.prefix);
    expectEnvelope(await whoami(key.secret), 401, "unauthenticated");
    expect((await whoami(rolled.body.secret)).status).toBe(200);
  });

  it("stay dead in a cache-holding isolate even when revoked directly in D1 and the limiter is down", async () => {
    const { user, project, key } = await createTenant();
    expect((await whoami(key.secret)).status).toBe(200); // cached now
    // A revocation that reached D1 but was never announced (e.g. written by an operator by hand)…
    await env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?").bind(Date.now(), key.id).run();
    // …is still refused once the cache cannot be vouched for: with the limiter unreachable, D1 decides.
    const broken = { idFromName: () => ({}), get: () => ({ hit: () => Promise.reject(new Error("limiter down")) }) };
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await fetchWithEnv({ RATE_LIMITER: broken }, new Request("https://pulse.test/v1/api-key", { headers: { Authorization: `Bearer ${key.secret}` } }));
    expect(res.status).toBe(401);
    void user;
    void project;
  });

  it("refuse to revoke when the revocation cannot be announced, and change nothing", async () => {
    const { user, project, key } = await createTenant();
    const broken = { idFromName: () => ({}), get: () => ({ revokeCredentials: () => Promise.reject(new Error("limiter down")), hit: () => Promise.reject(new Error("limiter down")) }) };
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await fetchWithEnv(
      { RATE_LIMITER: broken },
      new Request(`https://pulse.test/v1/projects/${project.id}/keys/${key.id}`, { method: "DELETE", headers: { Authorization: `Bearer ${user.token}` } }),
    );
    expect(res.status).toBe(503);
    const row = await env.DB.prepare("SELECT revoked_at FROM api_keys WHERE id = ?").bind(key.id).first<{ revoked_at: number | null }>();
    expect(row?.revoked_at).toBeNull();
    expect((await whoami(key.secret)).status).toBe(200);
  });

  it("announce the newer secret when a roll lands between a revoke's read and its write", async () => {
    const { user, project, key } = await createTenant();
    const racedSecret = "pulse_live_raced0000000000000000000000000000000000";
    const racedHash = await sha256Hex(racedSecret);
    const { binding: limiter, announced } = limiterWithRace(() =>
      env.DB.prepare("UPDATE api_keys SET key_hash = ? WHERE id = ?").bind(racedHash, key.id).run(),
    );
    const res = await fetchWithEnv(
      { RATE_LIMITER: limiter },
      new Request(`https://pulse.test/v1/projects/${project.id}/keys/${key.id}`, { method: "DELETE", headers: { Authorization: `Bearer ${user.token}` } }),
    );
    expect(res.status).toBe(204);
    expect(announced).toEqual([[await sha256Hex(key.secret)], [racedHash]]);
    expectEnvelope(await whoami(racedSecret), 401, "unauthenticated");
    const audit = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_logs WHERE resource_id = ? AND action = 'api_key.revoked'").bind(key.id).first<{ n: number }>();
    expect(audit?.n).toBe(1);
  });

  it("refuse a roll that lost a race with a revoke, writing nothing", async () => {
    const { user, project, key } = await createTenant();
    const { binding: limiter } = limiterWithRace(() =>
      env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?").bind(Date.now(), key.id).run(),
    );
    const res = await fetchWithEnv(
      { RATE_LIMITER: limiter },
      new Request(`https://pulse.test/v1/projects/${project.id}/keys/${key.id}/roll`, { method: "POST", headers: { Authorization: `Bearer ${user.token}` } }),
    );
    expect(res.status).toBe(409);
    const row = await env.DB.prepare("SELECT key_hash FROM api_keys WHERE id = ?").bind(key.id).first<{ key_hash: string }>();
    expect(row?.key_hash).toBe(await sha256Hex(key.secret));
    const audit = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_logs WHERE resource_id = ? AND action = 'api_key.rolled'").bind(key.id).first<{ n: number }>();
    expect(audit?.n).toBe(0);
  });

  it("refuse to roll a revoked key", async () => {
    const { user, project, key } = await createTenant();
    await call("DELETE", `/v1/projects/${project.id}/keys/${key.id}`, { token: user.token });
    expectEnvelope(await call("POST", `/v1/projects/${project.id}/keys/${key.id}/roll`, { token: user.token }), 409, "conflict");
  });

  it("stop working at their expiry", async () => {
    const { user, project } = await createTenant();
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    const key = await createApiKey(user, project.id, { expires_at: expiresAt });
    expect((await whoami(key.secret)).status).toBe(200);
    setClock(() => Date.parse(expiresAt) + 1000);
    expectEnvelope(await whoami(key.secret), 401, "unauthenticated");
  });

  it("refuse an expiry in the past", async () => {
    const { user, project } = await createTenant();
    const res = await call("POST", `/v1/projects/${project.id}/keys`, {
      token: user.token,
      body: { name: "old", expires_at: "2020-01-01T00:00:00Z" },
    });
    const error = expectEnvelope(res, 400, "validation_failed");
    expect(error.details?.[0]?.path).toBe("expires_at");
  });

  it("keep an expiry RFC 3339 can write: the last instant of 9999 (UTC) is fine, an offset past it is refused", async () => {
    const { user, project } = await createTenant();
    const last = await call("POST", `/v1/projects/${project.id}/keys`, { token: user.token, body: { name: "far", expires_at: "9999-12-31T23:59:59Z" } });
    expect(last.status, last.text).toBe(201);
    expect(last.body.expires_at).toBe("9999-12-31T23:59:59Z");
    const past = await call("POST", `/v1/projects/${project.id}/keys`, { token: user.token, body: { name: "too far", expires_at: "9999-12-31T23:59:59-23:59" } });
    const error = expectEnvelope(past, 400, "validation_failed");
    expect(error.details).toEqual([{ path: "expires_at", message: "must be before the year 10000 (UTC)" }]);
  });

  it("carry only the scopes asked for, and refuse unknown scopes", async () => {
    const { user, project } = await createTenant();
    const key = await createApiKey(user, project.id, { scopes: ["usage:read"] });
    expect(key.scopes).toEqual(["usage:read"]);
    expect((await whoami(key.secret)).body.scopes).toEqual(["usage:read"]);
    const bad = await call("POST", `/v1/projects/${project.id}/keys`, { token: user.token, body: { name: "x", scopes: ["rooms:admin"] } });
    expectEnvelope(bad, 400, "validation_failed");
  });

  it("are refused for unknown, malformed or missing secrets", async () => {
    await createTenant();
    expectEnvelope(await whoami("pulse_live_notarealkey"), 401, "unauthenticated");
    expectEnvelope(await call("GET", "/v1/api-key"), 401, "unauthenticated");
    // A session token is not an API key.
    const { user } = await createTenant();
    expectEnvelope(await call("GET", "/v1/api-key", { token: user.token }), 401, "unauthenticated");
  });

  it("stop authenticating when their project or org is deleted", async () => {
    const a = await createTenant();
    expect((await whoami(a.key.secret)).status).toBe(200);
    expect((await call("DELETE", `/v1/projects/${a.project.id}`, { token: a.user.token })).status).toBe(204);
    expectEnvelope(await whoami(a.key.secret), 401, "unauthenticated");
    expectEnvelope(await call("GET", `/v1/projects/${a.project.id}`, { token: a.user.token }), 404, "not_found");

    const b = await createTenant();
    expect((await whoami(b.key.secret)).status).toBe(200);
    expect((await call("DELETE", `/v1/orgs/${b.org.id}`, { token: b.user.token })).status).toBe(204);
    expectEnvelope(await whoami(b.key.secret), 401, "unauthenticated");
    const row = await env.DB.prepare("SELECT revoked_at FROM api_keys WHERE id = ?").bind(b.key.id).first<{ revoked_at: number | null }>();
    expect(row?.revoked_at).not.toBeNull();
    expect((await call("GET", "/v1/orgs", { token: b.user.token })).body.data).toEqual([]);
  });

  it("never show the secret in lists, logs or audit entries", async () => {
    const lines: string[] = [];
    for (const method of ["log", "warn", "error", "info", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    }
    const { user, org, project, key } = await createTenant();
    await whoami(key.secret);
    const rolled = await call("POST", `/v1/projects/${project.id}/keys/${key.id}/roll`, { token: user.token });
    await whoami(rolled.body.secret);
    await whoami("pulse_live_wrong");

    const list = await call("GET", `/v1/projects/${project.id}/keys`, { token: user.token });
    const audit = await call("GET", `/v1/orgs/${org.id}/audit-logs/export?format=ndjson`, { token: user.token });
    const stored = JSON.stringify((await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(key.id).all()).results);
    expect(lines.length).toBeGreaterThan(3);
    for (const secret of [key.secret, rolled.body.secret]) {
      expect(list.text).not.toContain(secret);
      expect(audit.text).not.toContain(secret);
      expect(stored).not.toContain(secret);
      for (const line of lines) expect(line).not.toContain(secret);
    }
    for (const line of lines) expect(line).not.toContain(user.token);
    expect(audit.text).toContain("api_key.created");
    expect(audit.text).toContain("api_key.rolled");
  });
});
