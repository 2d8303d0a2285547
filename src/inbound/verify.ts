/**
 * Verifying that a webhook really comes from our LiveKit deployment: the `Authorization` header
 * holds a JWT (LiveKit sends it bare; `Bearer ` is tolerated) signed HS256 with the deployment's
 * API secret, issued by its API key, whose `sha256` claim is the standard padded base64 SHA-256 of
 * the exact body bytes. Clock tolerance is LiveKit's server tolerance (verifyLivekitJwt's default).
 */
import { bytesToBase64, timingSafeEqual } from "../lib/secrets";
import { verifyLivekitJwt, type LivekitKeyPair } from "../livekit/jwt";

const encoder = new TextEncoder();

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
    claimed = (await verifyLivekitJwt(livekit, token)).sha256;
  } catch {
    return false;
  }
  if (typeof claimed !== "string" || claimed === "") return false;
  return timingSafeEqual(await bodySha256Base64(rawBody), claimed);
}
