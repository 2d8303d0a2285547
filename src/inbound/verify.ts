/**
 * Verifying that a webhook really comes from our LiveKit deployment: the `Authorization` header
 * holds a JWT (LiveKit sends it bare; `Bearer ` is tolerated) signed HS256 with the deployment's
 * API secret, issued by its API key, whose `sha256` claim is the standard padded base64 SHA-256 of
 * the exact body bytes. Clock tolerance is LiveKit's server tolerance (verifyLivekitJwt's default).
 *
 * The token must also carry `exp` and a start (`nbf`, as LiveKit sets it, or `iat`) at most
 * MAX_WEBHOOK_TOKEN_LIFETIME_S before it: LiveKit's own live 5 minutes, so a token without an
 * expiry, or one minted to last for days, is not LiveKit's and would make a captured request
 * replayable for as long.
 */
import { bytesToBase64 } from "../lib/base64";
import { timingSafeEqual } from "../lib/secrets";
import { verifyLivekitJwt, type LivekitKeyPair } from "../livekit/jwt";

const encoder = new TextEncoder();

export const MAX_WEBHOOK_TOKEN_LIFETIME_S = 10 * 60;

async function bodySha256Base64(rawBody: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(rawBody));
  return bytesToBase64(new Uint8Array(digest));
}

/** True only for a valid, unexpired token from our deployment whose hash matches `rawBody`. */
export async function verifyLivekitWebhook(livekit: LivekitKeyPair, authorization: string | undefined, rawBody: string): Promise<boolean> {
  const token = authorization?.replace(/^Bearer\s+/i, "").trim();
  if (!token) return false;
  let claimed: unknown;
  try {
    const payload = await verifyLivekitJwt(livekit, token);
    const start = payload.nbf ?? payload.iat;
    if (typeof payload.exp !== "number" || typeof start !== "number" || payload.exp - start > MAX_WEBHOOK_TOKEN_LIFETIME_S) return false;
    claimed = payload.sha256;
  } catch {
    return false;
  }
  if (typeof claimed !== "string" || claimed === "") return false;
  return timingSafeEqual(await bodySha256Base64(rawBody), claimed);
}
