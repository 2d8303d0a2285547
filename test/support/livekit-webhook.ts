/**
 * Sending LiveKit webhooks to Pulse exactly as a LiveKit server does: protobuf-JSON body,
 * `Content-Type: application/webhook+json`, and an `Authorization` JWT (no `Bearer`) signed by
 * livekit-server-sdk's `AccessToken` whose `sha256` claim is the base64 SHA-256 of the body.
 */
import { env } from "cloudflare:workers";
import { AccessToken } from "livekit-server-sdk";
import { call } from "./api";

async function sha256Base64(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest));
}

let seq = 0;

/** Posts one event (`id` and `createdAt` filled in when absent) through `POST /v1/livekit/webhook`. */
export async function sendLivekitWebhook(event: Record<string, unknown>) {
  const body = JSON.stringify({
    id: `EV_${Date.now().toString(36)}${(seq++).toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    createdAt: String(Math.floor(Date.now() / 1000)),
    ...event,
  });
  const token = new AccessToken(env.LIVEKIT_API_KEY!, env.LIVEKIT_API_SECRET!, { ttl: "5m" });
  token.sha256 = await sha256Base64(body);
  const jwt = await token.toJwt();
  return call("POST", "/v1/livekit/webhook", {
    raw: body,
    headers: { "Content-Type": "application/webhook+json", Authorization: jwt },
  });
}

/** Unix nanoseconds as protojson renders int64. */
export const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();
