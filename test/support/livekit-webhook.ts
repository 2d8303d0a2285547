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

/** Sends an event and insists Pulse accepted it (200). */
export async function deliverLivekitEvent(event: Record<string, unknown>) {
  const res = await sendLivekitWebhook(event);
  if (res.status !== 200) throw new Error(`LiveKit webhook refused: ${res.status} ${res.text}`);
  return res;
}

/** The raw usage events of one project and meter, oldest first. */
export async function usageEventsOf(projectId: string, meter: string) {
  const { results } = await env.DB.prepare(
    "SELECT quantity, source_id, occurred_at FROM usage_events WHERE project_id = ? AND meter = ? ORDER BY occurred_at",
  )
    .bind(projectId, meter)
    .all<{ quantity: number; source_id: string; occurred_at: number }>();
  return results;
}
