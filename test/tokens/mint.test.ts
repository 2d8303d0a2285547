import { env } from "cloudflare:workers";
import { TokenVerifier } from "livekit-server-sdk";
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createApiKey, createTenant } from "../support/factories";

const LIVEKIT_KEY = env.LIVEKIT_API_KEY!;
const LIVEKIT_SECRET = env.LIVEKIT_API_SECRET!;
/** LiveKit's own verifier: what a LiveKit server does with the token. */
const livekit = new TokenVerifier(LIVEKIT_KEY, LIVEKIT_SECRET);

function decodeHeader(token: string) {
  return JSON.parse(atob(token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/")));
}

describe("POST /v1/tokens", () => {
  it("mints a token LiveKit accepts, with exactly the claims asked for and the room namespaced", async () => {
    const { project, key } = await createTenant();
    const attributes = { "rôle": "hôte 🎙️", "日本語": "キー", empty: "", "quote\"s": "<b>&amp;</b>" };
    const metadata = JSON.stringify({ avatar: "🙂", note: "naïve café — ünïcödé", nested: { n: 1 } });
    const before = Math.floor(Date.now() / 1000);
    const res = await call("POST", "/v1/tokens", {
      token: key.secret,
      body: {
        identity: "user-Ω-42 ✨",
        room: "Standup ☕",
        name: "Zoë Åström",
        metadata,
        attributes,
        ttl: 600,
        grants: {
          can_publish: true,
          can_subscribe: false,
          can_publish_data: false,
          can_publish_sources: ["camera", "screen_share_audio"],
          can_update_own_metadata: true,
          hidden: true,
          room_admin: true,
        },
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      token: expect.any(String),
      url: env.LIVEKIT_URL,
      room: "Standup ☕",
      identity: "user-Ω-42 ✨",
      expires_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    expect(decodeHeader(res.body.token).alg).toBe("HS256");

    const claims = await livekit.verify(res.body.token);
    expect(claims.iss).toBe(LIVEKIT_KEY);
    expect(claims.sub).toBe("user-Ω-42 ✨");
    expect(claims.name).toBe("Zoë Åström");
    expect(claims.metadata).toBe(metadata);
    expect(claims.attributes).toEqual(attributes);
    expect(claims.nbf).toBeGreaterThanOrEqual(before);
    expect(claims.nbf).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(claims.exp! - claims.nbf!).toBe(600);
    expect(Date.parse(res.body.expires_at) / 1000).toBe(claims.exp);
    expect(claims.video).toEqual({
      roomJoin: true,
      room: `${project.id}:Standup ☕`,
      canPublish: true,
      canSubscribe: false,
      canPublishData: false,
      canPublishSources: ["camera", "screen_share_audio"],
      canUpdateOwnMetadata: true,
      hidden: true,
      roomAdmin: true,
    });
  });

  it("applies LiveKit's defaults: publish and subscribe allowed, data follows publish, 6 h lifetime", async () => {
    const { project, key } = await createTenant();
    const res = await call("POST", "/v1/tokens", { token: key.secret, body: { identity: "alice", room: "lobby" } });
    expect(res.status).toBe(201);
    const claims = await livekit.verify(res.body.token);
    expect(claims.exp! - claims.nbf!).toBe(21_600);
    expect(claims.name).toBeUndefined();
    expect(claims.metadata).toBeUndefined();
    expect(claims.attributes).toBeUndefined();
    expect(claims.video).toEqual({ roomJoin: true, room: `${project.id}:lobby`, canPublish: true, canSubscribe: true, canPublishData: true });

    const listener = await call("POST", "/v1/tokens", { token: key.secret, body: { identity: "bob", room: "lobby", grants: { can_publish: false } } });
    const listenerClaims = await livekit.verify(listener.body.token);
    expect(listenerClaims.video).toMatchObject({ canPublish: false, canSubscribe: true, canPublishData: false });
  });

  it("accepts the X-API-Key header as well as a bearer key", async () => {
    const { key } = await createTenant();
    const res = await call("POST", "/v1/tokens", { headers: { "X-API-Key": key.secret }, body: { identity: "a", room: "r" } });
    expect(res.status).toBe(201);
  });

  it.each([
    "room_create",
    "roomCreate",
    "room_list",
    "roomList",
    "room_record",
    "roomRecord",
    "ingress_admin",
    "ingressAdmin",
    "agent",
    "recorder",
  ])("refuses the grant %s with validation_failed naming it", async (grant) => {
    const { key } = await createTenant();
    for (const value of [true, false]) {
      const res = await call("POST", "/v1/tokens", { token: key.secret, body: { identity: "a", room: "r", grants: { can_publish: true, [grant]: value } } });
      const error = expectEnvelope(res, 400, "validation_failed");
      expect(error.details).toContainEqual({ path: `grants.${grant}`, message: expect.stringContaining("outside this project") });
      expect(res.body.token).toBeUndefined();
    }
  });

  it.each([
    ["a missing identity", { room: "r" }, "identity"],
    ["an empty identity", { identity: "", room: "r" }, "identity"],
    ["a 257-character identity", { identity: "x".repeat(257), room: "r" }, "identity"],
    ["a missing room", { identity: "a" }, "room"],
    ["an empty room", { identity: "a", room: "" }, "room"],
    ["a 129-character room", { identity: "a", room: "r".repeat(129) }, "room"],
    ["a ttl under 60 s", { identity: "a", room: "r", ttl: 59 }, "ttl"],
    ["a ttl over a day", { identity: "a", room: "r", ttl: 86_401 }, "ttl"],
    ["a fractional ttl", { identity: "a", room: "r", ttl: 90.5 }, "ttl"],
    ["metadata over 64 KiB", { identity: "a", room: "r", metadata: "é".repeat(32 * 1024 + 1) }, "metadata"],
    ["non-string attribute values", { identity: "a", room: "r", attributes: { n: 1 } }, "attributes.n"],
    ["an unknown publish source", { identity: "a", room: "r", grants: { can_publish_sources: ["camera", "webcam"] } }, "grants.can_publish_sources.1"],
    ["a non-boolean grant", { identity: "a", room: "r", grants: { can_publish: "yes" } }, "grants.can_publish"],
    ["a camelCase grant", { identity: "a", room: "r", grants: { canPublish: true } }, "grants"],
    ["an unknown top-level field", { identity: "a", room: "r", video: { roomCreate: true } }, "(root)"],
  ])("rejects %s with validation_failed", async (_what, body, path) => {
    const { key } = await createTenant();
    const res = await call("POST", "/v1/tokens", { token: key.secret, body });
    const error = expectEnvelope(res, 400, "validation_failed");
    expect(error.details!.map((d) => d.path)).toContain(path);
  });

  it("refuses attribute keys LiveKit reserves (lk.*) that would pass a tenant's participant off as an agent, naming the key", async () => {
    const { key } = await createTenant();
    const res = await call("POST", "/v1/tokens", {
      token: key.secret,
      body: { identity: "mallory", room: "r", attributes: { ok: "1", "lk.agent.state": "speaking", "lk.publish_on_behalf": "alice" } },
    });
    const error = expectEnvelope(res, 400, "validation_failed");
    expect(error.details!.map((d) => d.path).sort()).toEqual(["attributes.lk.agent.state", "attributes.lk.publish_on_behalf"]);
    expect(res.body.token).toBeUndefined();
    // Keys that merely contain "lk." elsewhere are the tenant's own.
    expect((await call("POST", "/v1/tokens", { token: key.secret, body: { identity: "a", room: "r", attributes: { "talk.lk.x": "1", "LK": "2" } } })).status).toBe(201);
  });

  it("refuses a __proto__ attribute key, written plainly or escaped, instead of dropping it", async () => {
    const { key } = await createTenant();
    for (const raw of [
      '{"identity":"a","room":"r","attributes":{"team":"x","__proto__":"y"}}',
      '{"identity":"a","room":"r","attributes":{"team":"x","\\u005f_proto__":"y"}}',
    ]) {
      const res = await call("POST", "/v1/tokens", { token: key.secret, raw, headers: { "Content-Type": "application/json" } });
      const error = expectEnvelope(res, 400, "validation_failed");
      expect(error.details).toEqual([{ path: "attributes.__proto__", message: expect.stringContaining("__proto__") }]);
    }
    // Text that merely mentions it, and bodies with other escapes, are the tenant's own.
    const fine = await call("POST", "/v1/tokens", { token: key.secret, body: { identity: "a", room: "r", metadata: "__proto__ \u00e9", attributes: { note: "__proto__" } } });
    expect(fine.status, fine.text).toBe(201);
    expect((await livekit.verify(fine.body.token)).attributes).toEqual({ note: "__proto__" });
  });

  it("accepts metadata of exactly 64 KiB and returns it byte for byte", async () => {
    const { key } = await createTenant();
    const metadata = "é".repeat(32 * 1024); // 2 bytes each in UTF-8
    const res = await call("POST", "/v1/tokens", { token: key.secret, body: { identity: "a", room: "r", metadata } });
    expect(res.status).toBe(201);
    expect((await livekit.verify(res.body.token)).metadata).toBe(metadata);
  });

  it("answers malformed JSON and wrong content types in the envelope", async () => {
    const { key } = await createTenant();
    expectEnvelope(await call("POST", "/v1/tokens", { token: key.secret, raw: "{", headers: { "Content-Type": "application/json" } }), 400, "invalid_json");
    expectEnvelope(await call("POST", "/v1/tokens", { token: key.secret, raw: "identity=a", headers: { "Content-Type": "text/plain" } }), 415, "unsupported_media_type");
  });

  it("refuses callers without a valid key with the tokens:write scope", async () => {
    const { user, project, key } = await createTenant();
    const body = { identity: "a", room: "r" };
    expectEnvelope(await call("POST", "/v1/tokens", { body }), 401, "unauthenticated");
    expectEnvelope(await call("POST", "/v1/tokens", { token: "pulse_live_not-a-real-key", body }), 401, "unauthenticated");
    expectEnvelope(await call("POST", "/v1/tokens", { token: user.token, body }), 401, "unauthenticated");

    const readOnly = await createApiKey(user, project.id, { scopes: ["usage:read"] });
    expectEnvelope(await call("POST", "/v1/tokens", { token: readOnly.secret, body }), 403, "forbidden");

    const revoked = await call("DELETE", `/v1/projects/${project.id}/keys/${key.id}`, { token: user.token });
    expect(revoked.status).toBe(204);
    expectEnvelope(await call("POST", "/v1/tokens", { token: key.secret, body }), 401, "unauthenticated");
  });
});

describe("the OpenAPI document", () => {
  it("describes both token routes and the refused grants", async () => {
    const res = await call("GET", "/v1/openapi.json");
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(["/v1/tokens", "/v1/tokens/verify"]));
    const grants = res.body.components.schemas.TokenGrants;
    expect(Object.keys(grants.properties)).toEqual(expect.arrayContaining(["can_publish", "can_publish_sources", "room_admin", "room_create"]));
    expect(grants.additionalProperties).toBe(false);
  });
});
