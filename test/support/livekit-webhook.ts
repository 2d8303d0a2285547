/**
 * Sending LiveKit webhooks to Pulse exactly as a LiveKit server does: protobuf-JSON body,
 * `Content-Type: application/webhook+json`, and an `Authorization` JWT (no `Bearer`) signed by
 * livekit-server-sdk's `AccessToken` whose `sha256` claim is the base64 SHA-256 of the body; with
 * knobs to break each part of the signature, plus direct D1 reads of what processing left.
 */
import { env } from "cloudflare:workers";
import { AccessToken } from "livekit-server-sdk";
import { call } from "./api";

export async function sha256Base64(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest));
}

let seq = 0;
export const eventId = () => `EV_${Date.now().toString(36)}${(seq++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** Unix seconds as a protojson int64 string. */
export const secs = (ms: number) => String(Math.floor(ms / 1000));

/** Unix nanoseconds as protojson renders int64. */
export const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();

/** The event's JSON, `id` and `createdAt` filled in when absent. */
export function eventBody(event: Record<string, unknown>): string {
  return JSON.stringify({ id: eventId(), createdAt: secs(Date.now()), ...event });
}

export async function livekitJwt(body: string, opts: { key?: string; secret?: string; ttl?: string } = {}): Promise<string> {
  const token = new AccessToken(opts.key ?? env.LIVEKIT_API_KEY!, opts.secret ?? env.LIVEKIT_API_SECRET!, { ttl: opts.ttl ?? "5m" });
  token.sha256 = await sha256Base64(body);
  return token.toJwt();
}

export function postWebhook(body: string, authorization?: string, ip = "192.0.2.44") {
  const headers: Record<string, string> = { "Content-Type": "application/webhook+json", "User-Agent": "LiveKit" };
  if (authorization !== undefined) headers.Authorization = authorization;
  return call("POST", "/v1/livekit/webhook", { raw: body, headers, ip });
}

/**
 * Waits until the real inbound queue consumer has processed the stored event with LiveKit id
 * `eventId` (the webhook's answer only means stored and queued).
 */
export async function processedEvent(eventId: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await env.DB.prepare("SELECT processed_at FROM livekit_events WHERE event_id = ?").bind(eventId).first<{ processed_at: number | null }>();
    if (row && row.processed_at !== null) return;
    if (Date.now() > deadline) throw new Error(`LiveKit event ${eventId} was ${row ? "stored but not processed" : "not stored"} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Signs and posts; returns the response and the exact body sent (so it can be replayed). An
 * accepted new event is waited for until the queue consumer has processed it, so callers check
 * its effects as LiveKit's next event would find them.
 */
export async function sendEvent(event: Record<string, unknown>) {
  const body = eventBody(event);
  const res = await postWebhook(body, await livekitJwt(body));
  if (res.status === 200 && (res.body as { duplicate?: boolean })?.duplicate === false) await processedEvent(JSON.parse(body).id);
  return { res, body };
}

export async function replay(body: string) {
  return postWebhook(body, await livekitJwt(body));
}

/** Sends an event and insists Pulse accepted it (200). */
export async function deliverLivekitEvent(event: Record<string, unknown>) {
  const { res } = await sendEvent(event);
  if (res.status !== 200) throw new Error(`LiveKit webhook refused: ${res.status} ${res.text}`);
  return res;
}

export function participant(sid: string, identity: string, joinedAtMs?: number) {
  return { sid, identity, name: identity, state: "ACTIVE", ...(joinedAtMs ? { joinedAt: secs(joinedAtMs) } : {}) };
}

export async function storedEvents(id: string) {
  return (await env.DB.prepare("SELECT * FROM livekit_events WHERE event_id = ?").bind(id).all()).results as Record<string, any>[];
}

export async function sessionsOf(projectId: string) {
  return (await env.DB.prepare("SELECT * FROM participant_sessions WHERE project_id = ? ORDER BY joined_at").bind(projectId).all()).results as Record<string, any>[];
}

/** The raw usage events of one project and meter, oldest first. */
export async function usageOf(projectId: string, meter = "participant_minutes") {
  return (await env.DB.prepare("SELECT * FROM usage_events WHERE project_id = ? AND meter = ? ORDER BY occurred_at").bind(projectId, meter).all())
    .results as Record<string, any>[];
}

/** `usageOf`, reduced to what a metered record is checked by: quantity, source and time. */
export async function usageEventsOf(projectId: string, meter: string) {
  return (await usageOf(projectId, meter)).map((u) => ({ quantity: u.quantity as number, source_id: u.source_id as string, occurred_at: u.occurred_at as number }));
}
