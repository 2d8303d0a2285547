/**
 * LiveKit's `WebhookEvent` as protojson: lowerCamelCase keys, default values omitted (so every
 * field is optional), int64 as strings, enums as names. Unknown fields are allowed on purpose:
 * LiveKit adds fields over time and a new field must never make Pulse refuse (and lose) an event.
 * Only what Pulse reads is typed; the raw body is stored as received.
 */
import { z } from "zod";
import { Int64, protoString } from "../lib/protojson";

const RoomInfo = z.looseObject({
  sid: z.string().optional(),
  name: z.string().optional(),
  metadata: z.string().optional(),
  creationTime: Int64.optional(),
  numParticipants: z.number().int().optional(),
});

const ParticipantInfo = z.looseObject({
  sid: z.string().optional(),
  identity: z.string().optional(),
  name: z.string().optional(),
  metadata: z.string().optional(),
  state: z.string().optional(),
  kind: z.string().optional(),
  joinedAt: Int64.optional(),
  joinedAtMs: Int64.optional(),
});

const TrackInfo = z.looseObject({
  sid: z.string().optional(),
  type: z.string().optional(),
  source: z.string().optional(),
  name: z.string().optional(),
  mimeType: z.string().optional(),
  muted: z.boolean().optional(),
});

export const LivekitWebhookEventSchema = z.looseObject({
  event: z.string().min(1).max(100),
  id: z.string().min(1).max(200),
  createdAt: Int64.optional(),
  room: RoomInfo.optional(),
  participant: ParticipantInfo.optional(),
  track: TrackInfo.optional(),
  egressInfo: z.record(z.string(), z.unknown()).optional(),
  ingressInfo: z.record(z.string(), z.unknown()).optional(),
});

export type LivekitWebhookEvent = z.infer<typeof LivekitWebhookEventSchema>;

/** The namespaced room an event is about, wherever this event type carries it. */
export function eventRoomName(event: LivekitWebhookEvent): string | null {
  return (
    protoString(event.room, "name") ??
    protoString(event.egressInfo, "roomName") ??
    protoString(event.ingressInfo, "roomName")
  );
}
