import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { setClock } from "../../src/lib/clock";
import { call, expectEnvelope } from "../support/api";
import { eventBody, eventId, livekitJwt, postWebhook, sha256Base64, storedEvents } from "../support/livekit-webhook";

describe("POST /v1/livekit/webhook signature", () => {
  it("accepts an event signed by livekit-server-sdk with a bare Authorization JWT and stores it", async () => {
    const id = eventId();
    const body = eventBody({ id, event: "room_started", room: { sid: "RM_1", name: "not-a-project-room" } });
    const res = await postWebhook(body, await livekitJwt(body));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, duplicate: false });
    const rows = await storedEvents(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.payload).toBe(body);
    expect(rows[0]!.event).toBe("room_started");
  });

  it("also accepts the JWT with a Bearer prefix", async () => {
    const id = eventId();
    const body = eventBody({ id, event: "room_started", room: { name: "x" } });
    const res = await postWebhook(body, `Bearer ${await livekitJwt(body)}`);
    expect(res.status).toBe(200);
    expect(await storedEvents(id)).toHaveLength(1);
  });

  it("rejects a tampered body with 401 and stores nothing", async () => {
    const id = eventId();
    const body = eventBody({ id, event: "room_started", room: { name: "a" } });
    const jwt = await livekitJwt(body);
    const tampered = body.replace('"name":"a"', '"name":"b"');
    expect(tampered).not.toBe(body);
    expectEnvelope(await postWebhook(tampered, jwt), 401, "unauthenticated");
    expect(await storedEvents(id)).toHaveLength(0);
  });

  it("rejects a token signed with another secret, or issued by another key", async () => {
    const id = eventId();
    const body = eventBody({ id, event: "room_started", room: { name: "a" } });
    expectEnvelope(await postWebhook(body, await livekitJwt(body, { secret: "another-secret-that-is-long-enough-0123456789" })), 401, "unauthenticated");
    expectEnvelope(await postWebhook(body, await livekitJwt(body, { key: "otherkey" })), 401, "unauthenticated");
    expect(await storedEvents(id)).toHaveLength(0);
  });

  it("rejects an expired token", async () => {
    const id = eventId();
    const body = eventBody({ id, event: "room_started", room: { name: "a" } });
    const jwt = await livekitJwt(body, { ttl: "1m" });
    const issued = Date.now();
    // Past the 1-minute lifetime plus LiveKit's 60 s clock tolerance.
    setClock(() => issued + 3 * 60_000);
    expectEnvelope(await postWebhook(body, jwt), 401, "unauthenticated");
    expect(await storedEvents(id)).toHaveLength(0);
  });

  it("rejects a missing, empty or garbage Authorization header", async () => {
    const id = eventId();
    const body = eventBody({ id, event: "room_started", room: { name: "a" } });
    expectEnvelope(await postWebhook(body), 401, "unauthenticated");
    expectEnvelope(await postWebhook(body, ""), 401, "unauthenticated");
    expectEnvelope(await postWebhook(body, "Bearer not.a.jwt"), 401, "unauthenticated");
    expect(await storedEvents(id)).toHaveLength(0);
  });

  it("checks the signature before the body: an unsigned request is 401 whatever it carries, a signed non-event 400", async () => {
    for (const body of ["{", "not json at all", "[]"]) expectEnvelope(await postWebhook(body), 401, "unauthenticated");
    const plain = await call("POST", "/v1/livekit/webhook", { raw: "{}", headers: { "Content-Type": "text/plain" } });
    expectEnvelope(plain, 401, "unauthenticated");
    expectEnvelope(await postWebhook("{", await livekitJwt("{")), 400, "invalid_json");
    expectEnvelope(await postWebhook("[]", await livekitJwt("[]")), 400, "validation_failed");
  });

  it("rejects a valid token whose sha256 claim is hex instead of base64", async () => {
    const id = eventId();
    const body = eventBody({ id, event: "room_started", room: { name: "a" } });
    const { AccessToken } = await import("livekit-server-sdk");
    const token = new AccessToken(env.LIVEKIT_API_KEY!, env.LIVEKIT_API_SECRET!, { ttl: "5m" });
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)));
    token.sha256 = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    expectEnvelope(await postWebhook(body, await token.toJwt()), 401, "unauthenticated");
    expect(await storedEvents(id)).toHaveLength(0);
  });

  it("refuses a replayable webhook token that has no expiry", async () => {
    const id = eventId();
    const body = eventBody({ id, event: "room_started", room: { name: "a" } });
    const { SignJWT } = await import("jose");
    const token = await new SignJWT({ sha256: await sha256Base64(body) })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(env.LIVEKIT_API_KEY!)
      .setNotBefore(new Date())
      .sign(new TextEncoder().encode(env.LIVEKIT_API_SECRET!));
    expectEnvelope(await postWebhook(body, token), 401, "unauthenticated");
    expect(await storedEvents(id)).toHaveLength(0);
  });

  it("refuses a webhook token minted to live longer than ten minutes", async () => {
    const id = eventId();
    const body = eventBody({ id, event: "room_started", room: { name: "a" } });
    expectEnvelope(await postWebhook(body, await livekitJwt(body, { ttl: "30d" })), 401, "unauthenticated");
    expectEnvelope(await postWebhook(body, await livekitJwt(body, { ttl: "11m" })), 401, "unauthenticated");
    expect(await storedEvents(id)).toHaveLength(0);
    expect((await postWebhook(body, await livekitJwt(body, { ttl: "10m" }))).status).toBe(200);
  });

  it("refuses a signed webhook token without the body's sha256", async () => {
    const id = eventId();
    const body = eventBody({ id, event: "room_started", room: { name: "a" } });
    const { AccessToken } = await import("livekit-server-sdk");
    const token = new AccessToken(env.LIVEKIT_API_KEY!, env.LIVEKIT_API_SECRET!, { ttl: "5m" });
    expectEnvelope(await postWebhook(body, await token.toJwt()), 401, "unauthenticated");
    expect(await storedEvents(id)).toHaveLength(0);
  });

  it("rate limits repeated bad signatures from one address with 429", async () => {
    const body = eventBody({ event: "room_started", room: { name: "a" } });
    const ip = "192.0.2.201";
    let last = await postWebhook(body, "Bearer nope", ip);
    for (let i = 0; i < 100 && last.status === 401; i++) last = await postWebhook(body, "Bearer nope", ip);
    expectEnvelope(last, 429, "rate_limited");
    expect(last.headers.get("Retry-After")).toMatch(/^\d+$/);
  });

  it("answers 400 for a signed body that is not a LiveKit event, storing nothing", async () => {
    const body = JSON.stringify({ hello: "world" });
    expectEnvelope(await postWebhook(body, await livekitJwt(body)), 400, "validation_failed");
  });
});
