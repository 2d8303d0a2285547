import { env } from "cloudflare:workers";
import { AccessToken } from "livekit-server-sdk";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { setClock } from "../../src/lib/clock";
import { call, expectEnvelope } from "../support/api";
import { createTenant } from "../support/factories";

const KEY = env.LIVEKIT_API_KEY!;
const SECRET = env.LIVEKIT_API_SECRET!;

async function mint(secret: string, body: Record<string, unknown>) {
  const res = await call("POST", "/v1/tokens", { token: secret, body });
  expect(res.status).toBe(201);
  return res.body.token as string;
}

const verify = (secret: string, token: unknown) => call("POST", "/v1/tokens/verify", { token: secret, body: { token } });

describe("POST /v1/tokens/verify", () => {
  it("reports the tenant's view of a token it minted: identity, own room name, snake_case grants, expiry", async () => {
    const { key } = await createTenant();
    const attributes = { "clé": "välue ☃" };
    const token = await mint(key.secret, {
      identity: "ünï",
      room: "salle:1",
      name: "N",
      metadata: "m ✓",
      attributes,
      ttl: 120,
      grants: { can_publish: false, can_publish_sources: ["microphone"], room_admin: true },
    });
    const res = await verify(key.secret, token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      valid: true,
      identity: "ünï",
      room: "salle:1",
      name: "N",
      metadata: "m ✓",
      attributes,
      grants: {
        can_publish: false,
        can_subscribe: true,
        can_publish_data: false,
        can_publish_sources: ["microphone"],
        can_update_own_metadata: false,
        hidden: false,
        room_admin: true,
      },
      expires_at: expect.stringMatching(/Z$/),
    });
    const exp = JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))).exp;
    expect(Date.parse(res.body.expires_at)).toBe(exp * 1000);
  });

  it("accepts a token LiveKit's own SDK signed for this project's namespace", async () => {
    const { project, key } = await createTenant();
    const at = new AccessToken(KEY, SECRET, { identity: "sdk-user", ttl: 300 });
    at.addGrant({ roomJoin: true, room: `${project.id}:from-sdk`, canPublish: false });
    const res = await verify(key.secret, await at.toJwt());
    expect(res.body).toMatchObject({ valid: true, identity: "sdk-user", room: "from-sdk", grants: { can_publish: false, can_publish_data: false } });
  });

  it("reports an expired token as expired once LiveKit's 60 s skew has passed", async () => {
    const { key } = await createTenant();
    const token = await mint(key.secret, { identity: "a", room: "r", ttl: 60 });
    const start = Date.now();
    setClock(() => start + 60_000 + 30_000);
    expect((await verify(key.secret, token)).body).toMatchObject({ valid: true });
    setClock(() => start + 60_000 + 61_000 + 1_000);
    // The API key check runs on the same clock; it has no expiry, so only the token is judged.
    expect((await verify(key.secret, token)).body).toEqual({ valid: false, reason: "expired" });
  });

  it.each([
    ["garbage", "not a token", "invalid"],
    ["three empty segments", "..", "invalid"],
    ["a JSON-looking string", '{"alg":"none"}', "invalid"],
    ["bad base64", "@@@.###.$$$", "invalid"],
  ])("answers %s with valid: false instead of an error", async (_what, token, reason) => {
    const { key } = await createTenant();
    const res = await verify(key.secret, token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ valid: false, reason });
  });

  it("rejects an unsigned (alg: none) token", async () => {
    const { project, key } = await createTenant();
    const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64({ alg: "none" })}.${b64({ iss: KEY, sub: "x", nbf: now, exp: now + 600, video: { roomJoin: true, room: `${project.id}:r` } })}.`;
    expect((await verify(key.secret, token)).body).toEqual({ valid: false, reason: "invalid" });
  });

  it("rejects tokens signed with another secret, by another issuer, or not valid yet", async () => {
    const { project, key } = await createTenant();
    const claims = { video: { roomJoin: true, room: `${project.id}:r` } };
    const sign = (secret: string, issuer: string, nbfOffset = 0) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuer(issuer).setSubject("x").setNotBefore(now + nbfOffset).setExpirationTime(now + 600).sign(new TextEncoder().encode(secret));
    };
    expect((await verify(key.secret, await sign("another-secret-of-at-least-32-characters!", KEY))).body).toEqual({ valid: false, reason: "invalid" });
    expect((await verify(key.secret, await sign(SECRET, "someone-else"))).body).toEqual({ valid: false, reason: "invalid" });
    expect((await verify(key.secret, await sign(SECRET, KEY, 3600))).body).toEqual({ valid: false, reason: "not_yet_valid" });
  });

  it("does not vouch for tokens holding refused grants or no room join, even in this project's namespace", async () => {
    const { project, key } = await createTenant();
    const cases = [
      { roomCreate: true, roomJoin: true, room: `${project.id}:r` },
      { roomJoin: true, room: `${project.id}:r`, agent: true },
      { roomAdmin: true, room: `${project.id}:r` },
    ];
    for (const video of cases) {
      const at = new AccessToken(KEY, SECRET, { identity: "svc", ttl: 300 });
      at.addGrant(video);
      expect((await verify(key.secret, await at.toJwt())).body, JSON.stringify(video)).toEqual({ valid: false, reason: "not_a_participant_token" });
    }
  });

  it("answers a genuine token of another project, a room-less service token and junk alike", async () => {
    const { key } = await createTenant();
    const other = await createTenant();
    const service = new AccessToken(KEY, SECRET, { identity: "svc", ttl: 300 });
    service.addGrant({ roomRecord: true });
    const tokens = [await service.toJwt(), "not a token"];
    for (const room of ["plain-room", `${other.project.id}:r`, ":r", "proj_:r"]) {
      const at = new AccessToken(KEY, SECRET, { identity: "u", ttl: 300 });
      at.addGrant({ roomJoin: true, room });
      tokens.push(await at.toJwt());
    }
    for (const token of tokens) {
      expect((await verify(key.secret, token)).body, token).toEqual({ valid: false, reason: "invalid" });
    }
  });

  it("refuses to tell an expired token of another project apart from junk", async () => {
    const { key } = await createTenant();
    const other = await createTenant();
    const token = await mint(other.key.secret, { identity: "victim", room: "board", ttl: 60 });
    const start = Date.now();
    // Long past expiry: the owner's project would hear "expired", anyone else the junk answer.
    setClock(() => start + 3_600_000);
    expect((await verify(other.key.secret, token)).body).toEqual({ valid: false, reason: "expired" });
    expect((await verify(key.secret, token)).body).toEqual({ valid: false, reason: "invalid" });
    expect((await verify(key.secret, "junk")).body).toEqual({ valid: false, reason: "invalid" });
  });

  it("validates its body strictly", async () => {
    const { key } = await createTenant();
    expectEnvelope(await call("POST", "/v1/tokens/verify", { token: key.secret, body: {} }), 400, "validation_failed");
    expectEnvelope(await call("POST", "/v1/tokens/verify", { token: key.secret, body: { token: 42 } }), 400, "validation_failed");
    expectEnvelope(await call("POST", "/v1/tokens/verify", { token: key.secret, body: { token: "x", extra: 1 } }), 400, "validation_failed");
    expectEnvelope(await call("POST", "/v1/tokens/verify", { body: { token: "x" } }), 401, "unauthenticated");
  });
});
