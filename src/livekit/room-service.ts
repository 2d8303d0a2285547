/**
 * LiveKit's `livekit.RoomService` over Twirp: the calls Pulse makes for tenants' rooms and
 * participants. Every call names a namespaced room (or, for `ListRooms`, namespaced names) and is
 * signed with only the grant LiveKit checks for it: `roomCreate` (CreateRoom, DeleteRoom),
 * `roomList` (ListRooms) or `roomAdmin` bound to that one room (everything about participants,
 * metadata and data). Requests are LiveKit's camelCase JSON; answers are validated as LiveKit sends
 * them (snake_case, defaults possibly omitted, int64 as strings).
 */
import { z } from "zod";
import type { Logger } from "../lib/logger";
import type { VideoGrant } from "./jwt";
import { twirpCall, type LivekitApi } from "./twirp";

const Int64 = z.union([z.string().regex(/^-?\d+$/), z.number().int()]).nullish();
const Str = z.string().nullish();
const Int = z.number().int().nullish();
const Bool = z.boolean().nullish();
/** protojson enums arrive as names (numbers tolerated). */
const Enum = z.union([z.string(), z.number()]).nullish();

export const LivekitRoom = z.looseObject({
  sid: z.string(),
  name: z.string(),
  empty_timeout: Int,
  departure_timeout: Int,
  max_participants: Int,
  creation_time: Int64,
  creation_time_ms: Int64,
  metadata: Str,
  num_participants: Int,
  active_recording: Bool,
});
export type LivekitRoom = z.infer<typeof LivekitRoom>;

export const LivekitPermission = z.looseObject({
  can_subscribe: Bool,
  can_publish: Bool,
  can_publish_data: Bool,
  can_publish_sources: z.array(Enum).nullish(),
  hidden: Bool,
  recorder: Bool,
  can_update_metadata: Bool,
  agent: Bool,
  can_subscribe_metrics: Bool,
});
export type LivekitPermission = z.infer<typeof LivekitPermission>;

export const LivekitTrack = z.looseObject({
  sid: z.string(),
  type: Enum,
  source: Enum,
  name: Str,
  muted: Bool,
  width: Int,
  height: Int,
  simulcast: Bool,
});
export type LivekitTrack = z.infer<typeof LivekitTrack>;

export const LivekitParticipant = z.looseObject({
  sid: z.string(),
  identity: z.string(),
  name: Str,
  state: Enum,
  metadata: Str,
  attributes: z.record(z.string(), z.string()).nullish(),
  joined_at: Int64,
  joined_at_ms: Int64,
  is_publisher: Bool,
  permission: LivekitPermission.nullish(),
  tracks: z.array(LivekitTrack).nullish(),
});
export type LivekitParticipant = z.infer<typeof LivekitParticipant>;

const Empty = z.looseObject({});

/** The permission object as LiveKit's UpdateParticipant takes it (camelCase, enum names). */
export interface PermissionRequest {
  canSubscribe: boolean;
  canPublish: boolean;
  canPublishData: boolean;
  canPublishSources: string[];
  hidden: boolean;
  recorder: boolean;
  canUpdateMetadata: boolean;
  agent: boolean;
  canSubscribeMetrics: boolean;
}

export interface CreateRoomRequest {
  name: string;
  emptyTimeout?: number;
  departureTimeout?: number;
  maxParticipants?: number;
  metadata?: string;
}

export interface UpdateParticipantRequest {
  name?: string;
  metadata?: string;
  attributes?: Record<string, string>;
  permission?: PermissionRequest;
}

export interface SendDataRequest {
  /** base64 of the bytes (protojson `bytes`). */
  data: string;
  kind: "RELIABLE" | "LOSSY";
  topic?: string;
  destinationIdentities?: string[];
}

type Livekit = LivekitApi;

const CREATE: VideoGrant = { roomCreate: true };
const LIST: VideoGrant = { roomList: true };
const admin = (room: string): VideoGrant => ({ roomAdmin: true, room });

function call<S extends z.ZodType>(livekit: Livekit, method: string, body: Record<string, unknown>, schema: S, grant: VideoGrant, logger?: Logger) {
  return twirpCall(livekit, "RoomService", method, body, schema, { logger, grant });
}

export function createRoom(livekit: Livekit, request: CreateRoomRequest, logger?: Logger): Promise<LivekitRoom> {
  return call(livekit, "CreateRoom", { ...request }, LivekitRoom, CREATE, logger);
}

/** Only the rooms named (all namespaced); LiveKit answers the live ones among them. */
export async function listRooms(livekit: Livekit, names: string[], logger?: Logger): Promise<LivekitRoom[]> {
  if (names.length === 0) return [];
  const answer = await call(livekit, "ListRooms", { names }, z.looseObject({ rooms: z.array(LivekitRoom).nullish() }), LIST, logger);
  return answer.rooms ?? [];
}

export async function deleteRoom(livekit: Livekit, room: string, logger?: Logger): Promise<void> {
  await call(livekit, "DeleteRoom", { room }, Empty, CREATE, logger);
}

export async function listParticipants(livekit: Livekit, room: string, logger?: Logger): Promise<LivekitParticipant[]> {
  const schema = z.looseObject({ participants: z.array(LivekitParticipant).nullish() });
  const answer = await call(livekit, "ListParticipants", { room }, schema, admin(room), logger);
  return answer.participants ?? [];
}

export function getParticipant(livekit: Livekit, room: string, identity: string, logger?: Logger): Promise<LivekitParticipant> {
  return call(livekit, "GetParticipant", { room, identity }, LivekitParticipant, admin(room), logger);
}

export async function removeParticipant(livekit: Livekit, room: string, identity: string, logger?: Logger): Promise<void> {
  await call(livekit, "RemoveParticipant", { room, identity }, Empty, admin(room), logger);
}

export async function mutePublishedTrack(
  livekit: Livekit,
  room: string,
  identity: string,
  track: { trackSid: string; muted: boolean },
  logger?: Logger,
): Promise<LivekitTrack> {
  const answer = await call(livekit, "MutePublishedTrack", { room, identity, ...track }, z.looseObject({ track: LivekitTrack }), admin(room), logger);
  return answer.track;
}

export function updateParticipant(
  livekit: Livekit,
  room: string,
  identity: string,
  update: UpdateParticipantRequest,
  logger?: Logger,
): Promise<LivekitParticipant> {
  return call(livekit, "UpdateParticipant", { room, identity, ...update }, LivekitParticipant, admin(room), logger);
}

export function updateRoomMetadata(livekit: Livekit, room: string, metadata: string, logger?: Logger): Promise<LivekitRoom> {
  return call(livekit, "UpdateRoomMetadata", { room, metadata }, LivekitRoom, admin(room), logger);
}

export async function sendData(livekit: Livekit, room: string, data: SendDataRequest, logger?: Logger): Promise<void> {
  await call(livekit, "SendData", { room, ...data }, Empty, admin(room), logger);
}
