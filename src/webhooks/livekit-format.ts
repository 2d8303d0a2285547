/**
 * Webhooks in LiveKit's own format, for endpoints with `format: "livekit"`: the body is LiveKit's
 * `WebhookEvent` as protobuf-JSON (written by `@livekit/protocol`, like LiveKit's server does) with
 * the tenant's room names, `Content-Type: application/webhook+json`, and `Authorization: <JWT>`
 * signed with the endpoint's LiveKit key, whose `sha256` claim is the base64 SHA-256 of the body,
 * so LiveKit's `WebhookReceiver(api_key, api_secret)` verifies it. The JWT is signed per attempt:
 * LiveKit's receivers accept tokens for five minutes, and retries run for hours.
 */
import { Room, WebhookEvent } from "@livekit/protocol";
import { randomBase62 } from "../lib/ids";
import { bytesToBase64 } from "../lib/base64";
import { signLivekitJwt, type LivekitKeyPair } from "../livekit/jwt";
import { roomOfProject } from "../livekit/rooms";

/** The room the `test` action's `room_started` names. */
export const LIVEKIT_TEST_ROOM = "pulse-webhook-test";

const TOKEN_TTL_SECONDS = 300;

/**
 * LiveKit's event as a tenant's LiveKit-format endpoint receives it: every room name the tenant's
 * own, EgressInfo's echo of the start request (storage credentials, the namespaced room) and
 * IngressInfo's stream key dropped. null when the event is not a WebhookEvent LiveKit's library can read.
 */
export function livekitWebhookBody(raw: Record<string, unknown>, projectId: string): string | null {
  let event: WebhookEvent;
  try {
    event = WebhookEvent.fromJson(raw as never, { ignoreUnknownFields: true });
  } catch {
    return null;
  }
  const own = (name: string) => (name === "" ? "" : (roomOfProject(name, projectId) ?? ""));
  if (event.room) event.room.name = own(event.room.name);
  if (event.egressInfo) {
    event.egressInfo.roomName = own(event.egressInfo.roomName);
    event.egressInfo.request = { case: undefined };
  }
  if (event.ingressInfo) {
    event.ingressInfo.roomName = own(event.ingressInfo.roomName);
    // A stream key lets anyone publish into the room: it is shown to admins alone and kept
    // encrypted, while a message's body is stored as sent and shown in every member's delivery log.
    event.ingressInfo.streamKey = "";
  }
  return event.toJsonString();
}

/** What the `test` action sends to a LiveKit-format endpoint: a `room_started` for LIVEKIT_TEST_ROOM. */
export function livekitTestBody(atMs: number): string {
  const seconds = BigInt(Math.floor(atMs / 1000));
  return new WebhookEvent({
    event: "room_started",
    id: `EV_${randomBase62(12)}`,
    createdAt: seconds,
    room: new Room({ sid: `RM_${randomBase62(12)}`, name: LIVEKIT_TEST_ROOM, creationTime: seconds }),
  }).toJsonString();
}

export async function livekitWebhookHeaders(key: LivekitKeyPair, body: string): Promise<Record<string, string>> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
  const { token } = await signLivekitJwt(key, { sha256: bytesToBase64(new Uint8Array(digest)) }, TOKEN_TTL_SECONDS);
  return { "Content-Type": "application/webhook+json", Authorization: token };
}
