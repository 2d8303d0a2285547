/**
 * The tenant-facing event types (LiveKit's names in dotted form) and how a LiveKit event becomes
 * the `data` of one. Rooms are the tenant's own names: the namespace never leaks. Only documented,
 * stable fields are forwarded, in snake_case with RFC 3339 times, like the rest of the API.
 */
import { toIso } from "../lib/clock";
import type { LivekitWebhookEvent } from "../livekit/webhook-event";
import { protoString } from "../lib/protojson";
import { livekitTimeToMs } from "../livekit/timestamps";
import { roomOfProject } from "../livekit/rooms";

export const WEBHOOK_EVENT_TYPES = [
  "room.started",
  "room.finished",
  "participant.joined",
  "participant.left",
  "track.published",
  "track.unpublished",
  "egress.started",
  "egress.updated",
  "egress.ended",
  "ingress.started",
  "ingress.ended",
  /** Pulse's own: after `egress.ended`, once per egress that completed with a file or playlist (`egress/events.ts`). */
  "recording.completed",
] as const;

export const TEST_EVENT_TYPE = "webhook.test";

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number] | typeof TEST_EVENT_TYPE;

/**
 * What an endpoint's `events` may list: every type the catalog shows. `webhook.test` is accepted
 * so a list built from `GET /v1/webhook-event-types` is valid, and changes nothing: the test
 * action sends it whatever the list says, and nothing else ever does.
 */
export const SUBSCRIBABLE_EVENT_TYPES = [...WEBHOOK_EVENT_TYPES, TEST_EVENT_TYPE] as const;

/** LiveKit event name → tenant event type. `participant_connection_aborted` is a leave to tenants. */
const TYPE_OF: Record<string, Exclude<(typeof WEBHOOK_EVENT_TYPES)[number], "recording.completed">> = {
  room_started: "room.started",
  room_finished: "room.finished",
  participant_joined: "participant.joined",
  participant_left: "participant.left",
  participant_connection_aborted: "participant.left",
  track_published: "track.published",
  track_unpublished: "track.unpublished",
  egress_started: "egress.started",
  egress_updated: "egress.updated",
  egress_ended: "egress.ended",
  ingress_started: "ingress.started",
  ingress_ended: "ingress.ended",
};

export interface TenantEvent {
  type: WebhookEventType;
  /** When it happened, unix ms. */
  occurredAt: number;
  data: Record<string, unknown>;
}

const iso = (ms: number | null) => (ms === null ? null : toIso(ms));

function tenantRoom(name: string | null, projectId: string): string | null {
  return name === null ? null : roomOfProject(name, projectId);
}

/** The tenant-facing event for a LiveKit event of `projectId`, or null for events tenants don't get. */
export function tenantEventFor(event: LivekitWebhookEvent, projectId: string, occurredAt: number): TenantEvent | null {
  const type = TYPE_OF[event.event];
  if (!type) return null;
  const data: Record<string, unknown> = { livekit_event_id: event.id };
  if (/^(room|participant|track)\./.test(type)) {
    data.room = { name: tenantRoom(event.room?.name ?? null, projectId), sid: event.room?.sid ?? null };
  }
  if (event.participant && (type.startsWith("participant.") || type.startsWith("track."))) {
    const p = event.participant;
    data.participant = {
      sid: p.sid ?? null,
      identity: p.identity ?? "",
      name: p.name ?? "",
      metadata: p.metadata ?? "",
      joined_at: iso(livekitTimeToMs(p.joinedAtMs) ?? livekitTimeToMs(p.joinedAt)),
    };
    if (event.event === "participant_connection_aborted") data.reason = "connection_aborted";
  }
  if (event.track && type.startsWith("track.")) {
    const t = event.track;
    data.track = { sid: t.sid ?? null, type: t.type ?? "AUDIO", source: t.source ?? "UNKNOWN", name: t.name ?? "", mime_type: t.mimeType ?? "", muted: t.muted ?? false };
  }
  if (event.egressInfo && type.startsWith("egress.")) {
    const info = event.egressInfo;
    data.egress = {
      egress_id: protoString(info, "egressId"),
      room: tenantRoom(protoString(info, "roomName"), projectId),
      status: protoString(info, "status") ?? "EGRESS_STARTING",
      started_at: iso(livekitTimeToMs(info.startedAt ?? info.started_at)),
      ended_at: iso(livekitTimeToMs(info.endedAt ?? info.ended_at)),
      error: protoString(info, "error"),
    };
  }
  if (event.ingressInfo && type.startsWith("ingress.")) {
    const info = event.ingressInfo;
    const state = (info.state && typeof info.state === "object" ? info.state : {}) as Record<string, unknown>;
    data.ingress = {
      ingress_id: protoString(info, "ingressId"),
      name: protoString(info, "name") ?? "",
      room: tenantRoom(protoString(info, "roomName"), projectId),
      participant_identity: protoString(info, "participantIdentity"),
      status: protoString(state, "status") ?? "ENDPOINT_INACTIVE",
      started_at: iso(livekitTimeToMs(state.startedAt ?? state.started_at)),
      ended_at: iso(livekitTimeToMs(state.endedAt ?? state.ended_at)),
      error: protoString(state, "error"),
    };
  }
  return { type, occurredAt, data };
}
