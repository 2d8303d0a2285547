import { decodeProtectedHeader, jwtVerify } from "jose";
import { TokenVerifier } from "livekit-server-sdk";
import { describe, expect, it } from "vitest";
import { bytesToBase64Url, base64UrlToBytes } from "../../src/lib/base64";
import { signLivekitJwt, verifyLivekitJwt } from "../../src/livekit/jwt";
import { MAX_METADATA_BYTES } from "../../src/tokens/schemas";

const pair = { apiKey: "APIjwtTest", apiSecret: "a-secret-long-enough-for-hs256-0123456789" };

describe("LiveKit JWT signing", () => {
  it("signs a compact HS256 JWS that LiveKit's verifier and jose both accept, claims intact", async () => {
    const before = Math.floor(Date.now() / 1000);
    const claims = {
      sub: "Zoë ✨",
      name: "名前 <b>&amp;</b>",
      metadata: JSON.stringify({ note: "naïve café 🙂" }),
      attributes: { "rôle": "hôte 🎙️" },
      video: { roomJoin: true, room: "proj:Standup ☕", canPublish: true },
    };
    const { token, expiresAt } = await signLivekitJwt(pair, claims, 600);

    expect(token.split(".")).toHaveLength(3);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "JWT" });
    const grants = await new TokenVerifier(pair.apiKey, pair.apiSecret).verify(token);
    expect(grants.sub).toBe(claims.sub);
    expect(grants.name).toBe(claims.name);
    expect(grants.metadata).toBe(claims.metadata);
    expect(grants.attributes).toEqual(claims.attributes);
    expect(grants.video).toEqual(claims.video);

    const { payload } = await jwtVerify(token, new TextEncoder().encode(pair.apiSecret), { algorithms: ["HS256"], issuer: pair.apiKey });
    expect(payload.iss).toBe(pair.apiKey);
    expect(payload.nbf).toBe(payload.iat);
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.exp).toBe(payload.iat! + 600);
    expect(expiresAt).toBe(payload.exp! * 1000);
  });

  it("leaves out claims it was not given", async () => {
    const { token } = await signLivekitJwt(pair, { video: { roomList: true } }, 60);
    const payload = await verifyLivekitJwt(pair, token);
    expect(Object.keys(payload).sort()).toEqual(["exp", "iat", "iss", "nbf", "video"]);
  });

  it("carries the largest metadata a token takes, multi-byte, byte for byte", async () => {
    const metadata = "é".repeat(MAX_METADATA_BYTES / 2); // two UTF-8 bytes each: exactly the limit
    const { token } = await signLivekitJwt(pair, { sub: "u", metadata, video: { roomJoin: true, room: "p:r" } }, 60);
    const grants = await new TokenVerifier(pair.apiKey, pair.apiSecret).verify(token);
    expect(grants.metadata).toBe(metadata);
  });

  it("is refused under another secret, and with a payload changed after signing", async () => {
    const { token } = await signLivekitJwt(pair, { sub: "u", video: { roomJoin: true, room: "p:r" } }, 60);
    await expect(new TokenVerifier(pair.apiKey, "another-secret-long-enough-0123456789").verify(token)).rejects.toThrow();
    await expect(verifyLivekitJwt({ ...pair, apiSecret: "another-secret-long-enough-0123456789" }, token)).rejects.toThrow();

    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(new TextDecoder().decode(base64UrlToBytes(payload!)));
    claims.video.room = "other-project:r";
    const forged = `${header}.${bytesToBase64Url(new TextEncoder().encode(JSON.stringify(claims)))}.${signature}`;
    await expect(new TokenVerifier(pair.apiKey, pair.apiSecret).verify(forged)).rejects.toThrow();
    await expect(verifyLivekitJwt(pair, forged)).rejects.toThrow();
  });
});

describe("base64url", () => {
  it("round-trips every byte value, unpadded and URL-safe", () => {
    const bytes = Uint8Array.from({ length: 256 * 3 + 1 }, (_, i) => (i * 7) % 256);
    const encoded = bytesToBase64Url(bytes);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(base64UrlToBytes(encoded)).toEqual(bytes);
  });

  it("encodes inputs larger than one fromCharCode call takes", () => {
    const bytes = new Uint8Array(200_000).fill(0xfb);
    expect(base64UrlToBytes(bytesToBase64Url(bytes))).toEqual(bytes);
  });
});
