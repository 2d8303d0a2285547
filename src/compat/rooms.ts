/**
 * `livekit.RoomService` served by Pulse: LiveKit's requests become the REST API's bodies (validated
 * by the same schemas as `/v1/rooms…`) and go through `rooms/service.ts`, so the quota, the audit,
 * the namespacing and the checks of every room LiveKit answers with are the REST routes' own.
 * Answers are LiveKit's messages read from LiveKit's answer, with the tenant's room names.
 *
 * Grants are LiveKit's: `roomCreate` for CreateRoom and DeleteRoom, `roomList` for ListRooms, and
 * `roomAdmin` for the very room named for everything else; all of them reach only the caller's
 * project, whatever room the token or the request names. What Pulse does not support (room presets,
 * auto-egress, agent dispatch, token revocation on removal…) is refused by name.
 */
import {
  CreateRoomRequest,
  DataPacket_Kind,
  DeleteRoomRequest,
  DeleteRoomResponse,
  ListParticipantsRequest,
  ListParticipantsResponse,
  ListRoomsRequest,
  ListRoomsResponse,
  MuteRoomTrackRequest,
  MuteRoomTrackResponse,
  ParticipantInfo,
  RemoveParticipantResponse,
  Room,
  RoomParticipantIdentity,
  SendDataRequest,
  SendDataResponse,
  TrackInfo,
  TrackSource,
  UpdateParticipantRequest,
  UpdateRoomMetadataRequest,
} from "@livekit/protocol";
import { ApiError } from "../lib/errors";
import * as rooms from "../rooms/service";
import { CreateRoomBody, Identity, MuteTrackBody, RoomName, SendDataBody, UpdateParticipantBody, UpdateRoomBody } from "../rooms/schemas";
import { onlySupportedFields, restBody, setFields, type LivekitMessage, type LivekitMessageType } from "./codec";
import { requireGrant, requireRoomAdmin, twirpMethod, type TwirpContext, type TwirpMethod } from "./methods";

/** ListRooms without names pages through the project's rooms; past this many pages it stops. */
const MAX_LIST_PAGES = 20;

function roomsOf({ deps, caller }: TwirpContext) {
  return {
    deps: { db: deps.db, livekit: deps.config.livekit, logger: deps.logger },
    project: { projectId: caller.projectId, orgId: caller.orgId },
    actor: caller.audit,
  };
}

/** LiveKit's answer (snake_case JSON, already checked by `livekit/room-service.ts`) as its message. */
function fromLivekit<T extends LivekitMessage>(type: LivekitMessageType<T>, answer: unknown): T {
  try {
    return type.fromJson(answer as never, { ignoreUnknownFields: true });
  } catch {
    throw new ApiError("upstream_error", "LiveKit sent an answer Pulse could not understand.");
  }
}

const roomMessage = (room: rooms.TenantRoom) => fromLivekit(Room, room);
const participantMessage = (p: unknown) => fromLivekit(ParticipantInfo, p);

/** The tenant's room and identity of a request, checked like the REST paths check them. */
const roomOf = (room: string) => restBody(RoomName, room);
const target = (req: { room: string; identity: string }) => ({ room: roomOf(req.room), identity: restBody(Identity, req.identity) });

const roomAdmin = requireRoomAdmin((req: { room: string }) => req.room);

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** LiveKit's permission message (complete: LiveKit replaces the whole object) as the REST body's fields. */
function permissionBody(permission: NonNullable<UpdateParticipantRequest["permission"]>) {
  onlySupportedFields(setFields(permission), ["canSubscribe", "canPublish", "canPublishData", "canPublishSources", "hidden"], "permission.");
  return {
    can_subscribe: permission.canSubscribe,
    can_publish: permission.canPublish,
    can_publish_data: permission.canPublishData,
    can_publish_sources: permission.canPublishSources.map((s) => (TrackSource[s] ?? String(s)).toLowerCase()),
    hidden: permission.hidden,
  };
}

async function allRooms(ctx: TwirpContext): Promise<rooms.TenantRoom[]> {
  const { deps, project } = roomsOf(ctx);
  const all: rooms.TenantRoom[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const { rooms: live, next_cursor } = await rooms.listRooms(deps, project, { limit: 100, cursor });
    all.push(...live);
    if (!next_cursor) break;
    cursor = next_cursor;
  }
  return all;
}

export const roomMethods: Record<string, TwirpMethod> = {
  CreateRoom: twirpMethod({
    request: CreateRoomRequest,
    authorize: requireGrant("roomCreate"),
    async handle(ctx, message) {
      const req = setFields(message);
      onlySupportedFields(req, ["name", "emptyTimeout", "departureTimeout", "maxParticipants", "metadata"]);
      const body = restBody(CreateRoomBody, {
        name: message.name,
        empty_timeout: req.emptyTimeout,
        departure_timeout: req.departureTimeout,
        max_participants: req.maxParticipants,
        metadata: req.metadata,
      });
      const { deps, project, actor } = roomsOf(ctx);
      try {
        return roomMessage(await rooms.createRoom(deps, project, actor, body));
      } catch (error) {
        // LiveKit's CreateRoom answers a live room with that room, unchanged.
        if (error instanceof ApiError && error.code === "conflict") return roomMessage(await rooms.getRoom(deps, project, body.name));
        throw error;
      }
    },
  }),
  ListRooms: twirpMethod({
    request: ListRoomsRequest,
    authorize: requireGrant("roomList"),
    async handle(ctx, req) {
      const { deps, project } = roomsOf(ctx);
      const live = req.names.length > 0 ? await rooms.liveRoomsNamed(deps, project, req.names) : await allRooms(ctx);
      return new ListRoomsResponse({ rooms: live.map(roomMessage) });
    },
  }),
  DeleteRoom: twirpMethod({
    request: DeleteRoomRequest,
    authorize: requireGrant("roomCreate"),
    async handle(ctx, req) {
      const { deps, project, actor } = roomsOf(ctx);
      await rooms.deleteRoom(deps, project, actor, roomOf(req.room));
      return new DeleteRoomResponse();
    },
  }),
  UpdateRoomMetadata: twirpMethod<UpdateRoomMetadataRequest>({
    request: UpdateRoomMetadataRequest,
    authorize: roomAdmin,
    async handle(ctx, req) {
      const { deps, project, actor } = roomsOf(ctx);
      const { metadata } = restBody(UpdateRoomBody, { metadata: req.metadata });
      return roomMessage(await rooms.updateRoomMetadata(deps, project, actor, roomOf(req.room), metadata));
    },
  }),
  ListParticipants: twirpMethod<ListParticipantsRequest>({
    request: ListParticipantsRequest,
    authorize: roomAdmin,
    async handle(ctx, req) {
      const { deps, project } = roomsOf(ctx);
      const participants = await rooms.listParticipants(deps, project, roomOf(req.room));
      return new ListParticipantsResponse({ participants: participants.map(participantMessage) });
    },
  }),
  GetParticipant: twirpMethod<RoomParticipantIdentity>({
    request: RoomParticipantIdentity,
    authorize: roomAdmin,
    async handle(ctx, req) {
      onlySupportedFields(setFields(req), ["room", "identity"]);
      const { deps, project } = roomsOf(ctx);
      const { room, identity } = target(req);
      return participantMessage(await rooms.getParticipant(deps, project, room, identity));
    },
  }),
  RemoveParticipant: twirpMethod<RoomParticipantIdentity>({
    request: RoomParticipantIdentity,
    authorize: roomAdmin,
    async handle(ctx, req) {
      onlySupportedFields(setFields(req), ["room", "identity"]);
      const { deps, project, actor } = roomsOf(ctx);
      const { room, identity } = target(req);
      await rooms.removeParticipant(deps, project, actor, room, identity);
      return new RemoveParticipantResponse();
    },
  }),
  MutePublishedTrack: twirpMethod<MuteRoomTrackRequest>({
    request: MuteRoomTrackRequest,
    authorize: roomAdmin,
    async handle(ctx, req) {
      const { deps, project, actor } = roomsOf(ctx);
      const { room, identity } = target(req);
      const body = restBody(MuteTrackBody, { track_sid: req.trackSid, muted: req.muted });
      const track = await rooms.muteTrack(deps, project, actor, room, identity, body);
      return new MuteRoomTrackResponse({ track: fromLivekit(TrackInfo, track) });
    },
  }),
  UpdateParticipant: twirpMethod<UpdateParticipantRequest>({
    request: UpdateParticipantRequest,
    authorize: roomAdmin,
    async handle(ctx, req) {
      onlySupportedFields(setFields(req), ["room", "identity", "metadata", "permission", "name", "attributes"]);
      const { deps, project, actor } = roomsOf(ctx);
      const { room, identity } = target(req);
      // LiveKit's UpdateParticipant: empty strings and an empty map leave the field as it is.
      const change = {
        name: req.name || undefined,
        metadata: req.metadata || undefined,
        attributes: Object.keys(req.attributes).length > 0 ? req.attributes : undefined,
        permission: req.permission ? permissionBody(req.permission) : undefined,
      };
      if (Object.values(change).every((v) => v === undefined)) return participantMessage(await rooms.getParticipant(deps, project, room, identity));
      const body = restBody(UpdateParticipantBody, change);
      return participantMessage(await rooms.updateParticipant(deps, project, actor, room, identity, body));
    },
  }),
  SendData: twirpMethod<SendDataRequest>({
    request: SendDataRequest,
    authorize: roomAdmin,
    async handle(ctx, req) {
      // `nonce` lets LiveKit drop a resent packet; Pulse hands each request to LiveKit once.
      onlySupportedFields(setFields(req), ["room", "data", "kind", "destinationIdentities", "topic", "nonce"]);
      const { deps, project, actor } = roomsOf(ctx);
      const body = restBody(SendDataBody, {
        data: base64(req.data),
        topic: req.topic,
        destination_identities: req.destinationIdentities.length > 0 ? req.destinationIdentities : undefined,
        reliable: req.kind !== DataPacket_Kind.LOSSY,
      });
      await rooms.sendData(deps, project, actor, roomOf(req.room), body);
      return new SendDataResponse();
    },
  }),
};
