/**
 * LiveKit's `WebhookEvent` as protojson: lowerCamelCase keys, default values omitted (so every
 * field is optional), int64 as strings, enums as names. Unknown fields are allowed on purpose:
 * LiveKit adds fields over time and a new field must never make Pulse refuse (and lose) an event.
 * Only what Pulse reads is typed; the raw body is stored as received.
 */
import { z } from "zod";

/** protojson int64: a decimal string (numbers tolerated). */
const Int64 = z.union([z.string().regex(/^-?\d+$/), z.number().int()]);

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

function nonEmptyString(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/** protojson allows either casing on input; LiveKit emits camelCase, Twirp-style snake_case also appears. */
export function infoField(info: Record<string, unknown> | undefined, camel: string, snake: string): string | null {
  if (!info) return null;
  return nonEmptyString(info[camel]) ?? nonEmptyString(info[snake]);
}

/** The namespaced room an event is about, wherever this event type carries it. */
export function eventRoomName(event: LivekitWebhookEvent): string | null {
  return (
    nonEmptyString(event.room?.name) ??
    infoField(event.egressInfo, "roomName", "room_name") ??
    infoField(event.ingressInfo, "roomName", "room_name")
  );
}
