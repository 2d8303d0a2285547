/**
 * Signing events the way a LiveKit server does (livekit-server-sdk's AccessToken with the body's
 * sha256), with knobs to break each part of the signature, plus direct D1 reads for assertions.
 */
import { env } from "cloudflare:workers";
import { AccessToken } from "livekit-server-sdk";
import { call } from "../support/api";

export async function sha256Base64(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest));
}

let seq = 0;
export const eventId = () => `EV_${Date.now().toString(36)}${(seq++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** Unix seconds as a protojson int64 string. */
export const secs = (ms: number) => String(Math.floor(ms / 1000));

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

/** Signs and posts; returns the response and the exact body sent (so it can be replayed). */
export async function sendEvent(event: Record<string, unknown>) {
  const body = eventBody(event);
  const res = await postWebhook(body, await livekitJwt(body));
  return { res, body };
}

export async function replay(body: string) {
  return postWebhook(body, await livekitJwt(body));
}

export async function storedEvents(id: string) {
  return (await env.DB.prepare("SELECT * FROM livekit_events WHERE event_id = ?").bind(id).all()).results as Record<string, any>[];
}

export async function sessionsOf(projectId: string) {
  return (await env.DB.prepare("SELECT * FROM participant_sessions WHERE project_id = ? ORDER BY joined_at").bind(projectId).all()).results as Record<string, any>[];
}

export async function usageOf(projectId: string, meter = "participant_minutes") {
  return (await env.DB.prepare("SELECT * FROM usage_events WHERE project_id = ? AND meter = ? ORDER BY occurred_at").bind(projectId, meter).all())
    .results as Record<string, any>[];
}

export function participant(sid: string, identity: string, joinedAtMs?: number) {
  return { sid, identity, name: identity, state: "ACTIVE", ...(joinedAtMs ? { joinedAt: secs(joinedAtMs) } : {}) };
}
