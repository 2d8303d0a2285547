/**
 * Shapes of `/v1/rooms…` (contract: "Rooms and participants") and their serializers, which turn
 * LiveKit's answers into the tenant's view: the namespace stripped from room names, enums in the
 * API's lower-case vocabulary, int64 seconds as RFC 3339.
 */
import { z } from "@hono/zod-openapi";
import { toIso } from "../lib/clock";
import { attributeMap } from "../lib/schemas";
import type { LivekitParticipant, LivekitPermission, LivekitRoom, LivekitTrack } from "../livekit/room-service";
import { MAX_ROOM_NAME_LENGTH } from "../livekit/rooms";
import { PUBLISH_SOURCES } from "../tokens/grants";
import { MAX_METADATA_BYTES } from "../tokens/schemas";

const utf8 = new TextEncoder();
export const MAX_DATA_BYTES = 15 * 1024;

const Metadata = z.string().refine((s) => utf8.encode(s).byteLength <= MAX_METADATA_BYTES, {
  error: `Must be at most ${MAX_METADATA_BYTES} bytes (UTF-8)`,
});

export const RoomName = z.string().min(1).max(MAX_ROOM_NAME_LENGTH).openapi({ description: "Your own room name; Pulse namespaces it on LiveKit." });
export const Identity = z.string().min(1).max(256);

export const RoomParams = z.object({ room: RoomName.openapi({ param: { name: "room", in: "path" }, example: "standup" }) });
export const ParticipantParams = RoomParams.extend({
  identity: Identity.openapi({ param: { name: "identity", in: "path" }, example: "alice" }),
});

export const CreateRoomBody = z
  .strictObject({
    name: RoomName,
    empty_timeout: z.number().int().min(0).max(86_400 * 7).optional().openapi({ description: "Seconds an empty room stays open." }),
    departure_timeout: z.number().int().min(0).max(86_400 * 7).optional().openapi({ description: "Seconds the room stays open after the last participant left." }),
    max_participants: z.number().int().min(0).max(100_000).optional().openapi({ description: "0 = no limit." }),
    metadata: Metadata.optional(),
  })
  .openapi("CreateRoom");

export const UpdateRoomBody = z.strictObject({ metadata: Metadata }).openapi("UpdateRoom");

const refused = (name: string) =>
  z
    .unknown()
    .refine(() => false, { error: `'${name}' marks LiveKit's own server-side participants; it cannot be set.` })
    .optional()
    .openapi({ description: "Refused (400)." });

export const PermissionBody = z
  .strictObject({
    can_publish: z.boolean().optional(),
    can_subscribe: z.boolean().optional(),
    can_publish_data: z.boolean().optional(),
    can_publish_sources: z.array(z.enum(PUBLISH_SOURCES)).max(PUBLISH_SOURCES.length).optional().openapi({ description: "Empty: any source." }),
    hidden: z.boolean().optional(),
    recorder: refused("recorder"),
    agent: refused("agent"),
  })
  .openapi("ParticipantPermissionUpdate");
export type PermissionBody = z.infer<typeof PermissionBody>;

export const UpdateParticipantBody = z
  .strictObject({
    name: z.string().max(256).optional(),
    metadata: Metadata.optional(),
    attributes: attributeMap(z.string().min(1).max(256), z.string().max(MAX_METADATA_BYTES))
      .optional()
      .openapi({ description: "Merged into the participant's attributes; an empty value removes the key. Keys starting `lk.` are refused." }),
    permission: PermissionBody.optional().openapi({ description: "Merged with the participant's current permission." }),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { error: "Nothing to update" })
  .openapi("UpdateParticipant");

export const MuteTrackBody = z.strictObject({ track_sid: z.string().min(1).max(256), muted: z.boolean() }).openapi("MuteTrack");

/** Bytes a padded base64 string decodes to. */
export const decodedLength = (b64: string) => Math.floor((b64.length * 3) / 4) - (b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0);

const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const SendDataBody = z
  .strictObject({
    data: z
      .string()
      .min(1)
      .refine((s) => base64.test(s), { error: "Must be base64 (standard alphabet, padded)" })
      .refine((s) => decodedLength(s) <= MAX_DATA_BYTES, {
        error: `Must decode to at most ${MAX_DATA_BYTES} bytes`,
      })
      .openapi({ description: `base64; at most ${MAX_DATA_BYTES} bytes decoded.` }),
    topic: z.string().max(256).optional(),
    destination_identities: z.array(Identity).max(1000).optional().openapi({ description: "Absent or empty: everyone in the room." }),
    reliable: z.boolean().default(true),
  })
  .openapi("SendData");

export const RoomSchema = z
  .object({
    name: z.string(),
    sid: z.string(),
    num_participants: z.number().int(),
    max_participants: z.number().int(),
    empty_timeout: z.number().int(),
    departure_timeout: z.number().int(),
    metadata: z.string(),
    active_recording: z.boolean(),
    created_at: z.string().nullable(),
  })
  .openapi("Room");

const TRACK_TYPES = ["audio", "video", "data"] as const;
const TRACK_SOURCES = ["unknown", ...PUBLISH_SOURCES] as const;
const PARTICIPANT_STATES = ["joining", "joined", "active", "disconnected"] as const;

export const TrackSchema = z
  .object({
    sid: z.string(),
    type: z.string().openapi({ description: "audio | video | data" }),
    source: z.string().openapi({ description: "camera | microphone | screen_share | screen_share_audio | unknown" }),
    name: z.string(),
    muted: z.boolean(),
    width: z.number().int(),
    height: z.number().int(),
    simulcast: z.boolean(),
  })
  .openapi("Track");

export const PermissionSchema = z
  .object({
    can_publish: z.boolean(),
    can_subscribe: z.boolean(),
    can_publish_data: z.boolean(),
    can_publish_sources: z.array(z.string()),
    hidden: z.boolean(),
  })
  .openapi("ParticipantPermission");

export const ParticipantSchema = z
  .object({
    sid: z.string(),
    identity: z.string(),
    name: z.string(),
    state: z.string().openapi({ description: "joining | joined | active | disconnected" }),
    metadata: z.string(),
    attributes: z.record(z.string(), z.string()),
    joined_at: z.string().nullable(),
    is_publisher: z.boolean(),
    permission: PermissionSchema,
    tracks: z.array(TrackSchema),
  })
  .openapi("Participant");

/** An enum LiveKit sent as its name or its number, in the API's lower-case vocabulary. */
function enumName(value: string | number | null | undefined, names: readonly string[], fallback: string): string {
  if (typeof value === "number") return names[value] ?? fallback;
  if (typeof value === "string" && value !== "") return value.toLowerCase();
  return names[0] ?? fallback;
}

const int = (v: number | null | undefined) => v ?? 0;

/** int64 unix seconds (or ms when `ms` is set) as RFC 3339; 0 or absent is null. */
function livekitSeconds(seconds: string | number | null | undefined, ms?: string | number | null): string | null {
  const millis = ms !== undefined && ms !== null && Number(ms) > 0 ? Number(ms) : Number(seconds ?? 0) * 1000;
  return Number.isFinite(millis) && millis > 0 ? toIso(millis) : null;
}

export function serializeRoom(room: LivekitRoom, tenantName: string) {
  return {
    name: tenantName,
    sid: room.sid,
    num_participants: int(room.num_participants),
    max_participants: int(room.max_participants),
    empty_timeout: int(room.empty_timeout),
    departure_timeout: int(room.departure_timeout),
    metadata: room.metadata ?? "",
    active_recording: room.active_recording ?? false,
    created_at: livekitSeconds(room.creation_time, room.creation_time_ms),
  };
}

export function serializeTrack(t: LivekitTrack) {
  return {
    sid: t.sid,
    type: enumName(t.type, TRACK_TYPES, "audio"),
    source: enumName(t.source, TRACK_SOURCES, "unknown"),
    name: t.name ?? "",
    muted: t.muted ?? false,
    width: int(t.width),
    height: int(t.height),
    simulcast: t.simulcast ?? false,
  };
}

export function serializePermission(p: LivekitPermission | null | undefined) {
  return {
    can_publish: p?.can_publish ?? false,
    can_subscribe: p?.can_subscribe ?? false,
    can_publish_data: p?.can_publish_data ?? false,
    can_publish_sources: (p?.can_publish_sources ?? []).map((s) => enumName(s, TRACK_SOURCES, "unknown")),
    hidden: p?.hidden ?? false,
  };
}

export function serializeParticipant(p: LivekitParticipant) {
  return {
    sid: p.sid,
    identity: p.identity,
    name: p.name ?? "",
    state: enumName(p.state, PARTICIPANT_STATES, "joining"),
    metadata: p.metadata ?? "",
    attributes: p.attributes ?? {},
    joined_at: livekitSeconds(p.joined_at, p.joined_at_ms),
    is_publisher: p.is_publisher ?? false,
    permission: serializePermission(p.permission),
    tracks: (p.tracks ?? []).map(serializeTrack),
  };
}
