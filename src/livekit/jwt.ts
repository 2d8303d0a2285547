/**
 * JWTs in LiveKit's format, signed and verified with the deployment's API key and secret (HS256,
 * key = UTF-8 bytes of the secret, `iss` = API key). Used for participant access tokens, for the
 * short-lived service tokens Pulse sends to LiveKit's Twirp API, and to verify LiveKit's webhooks.
 */
import { jwtVerify, type JWTPayload } from "jose";
import { bytesToBase64Url } from "../lib/base64";
import { nowMs } from "../lib/clock";

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

/**
 * The deployment secret as an HMAC key, imported once per isolate: handing jose raw bytes would
 * re-import the key on every token, on the hottest path Pulse has.
 */
function secretKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keyCache.set(secret, key);
  }
  return key;
}

/** The deployment's API key and secret: `iss` and HMAC key of every LiveKit JWT. */
export interface LivekitKeyPair {
  apiKey: string;
  apiSecret: string;
}

/** LiveKit's `video` grant, camelCase exactly as LiveKit reads it. */
export interface VideoGrant {
  roomCreate?: boolean;
  roomList?: boolean;
  roomRecord?: boolean;
  roomAdmin?: boolean;
  roomJoin?: boolean;
  room?: string;
  canPublish?: boolean;
  canSubscribe?: boolean;
  canPublishData?: boolean;
  canPublishSources?: string[];
  canUpdateOwnMetadata?: boolean;
  ingressAdmin?: boolean;
  hidden?: boolean;
  recorder?: boolean;
  agent?: boolean;
}

export interface LivekitClaims {
  sub?: string;
  name?: string;
  metadata?: string;
  attributes?: Record<string, string>;
  video?: VideoGrant;
  sha256?: string;
}

/** Every JWT Pulse signs has this protected header: its encoding is computed once. */
const HS256_HEADER = bytesToBase64Url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));

/**
 * Signs `claims` for LiveKit. `nbf` is the issue time (LiveKit's TokenVerifier allows only 10 s
 * of skew, and RemoveParticipant revokes by `nbf`), `exp` = now + ttl.
 *
 * A compact JWS is `b64url(header).b64url(payload).b64url(HMAC-SHA256(key, those two))`
 * (RFC 7515 §7.1); with the header fixed and the claims typed there is nothing to check per call,
 * so this signs in one WebCrypto call. jose's `SignJWT` rebuilt and validated the header and
 * claims through several async layers on every token: under load that was about 0.04 ms of CPU
 * per token request, some 5 % of the Worker's share. Verification stays with jose (`jwtVerify`),
 * where its checks matter.
 */
export async function signLivekitJwt(livekit: LivekitKeyPair, claims: LivekitClaims, ttlSeconds: number) {
  const issuedAt = Math.floor(nowMs() / 1000);
  const expiresAt = issuedAt + ttlSeconds;
  const payload = { ...claims, iss: livekit.apiKey, nbf: issuedAt, iat: issuedAt, exp: expiresAt };
  const signingInput = `${HS256_HEADER}.${bytesToBase64Url(encoder.encode(JSON.stringify(payload)))}`;
  const signature = await crypto.subtle.sign("HMAC", await secretKey(livekit.apiSecret), encoder.encode(signingInput));
  return { token: `${signingInput}.${bytesToBase64Url(new Uint8Array(signature))}`, expiresAt: expiresAt * 1000 };
}

/**
 * Verifies a LiveKit-format JWT against the deployment secret. `clockToleranceSeconds` follows
 * what LiveKit itself allows (60 s on the server).
 */
export async function verifyLivekitJwt(livekit: LivekitKeyPair, token: string, clockToleranceSeconds = 60) {
  const { payload } = await jwtVerify(token, await secretKey(livekit.apiSecret), {
    algorithms: ["HS256"],
    issuer: livekit.apiKey,
    clockTolerance: clockToleranceSeconds,
    currentDate: new Date(nowMs()),
  });
  return payload as JWTPayload & LivekitClaims;
}
