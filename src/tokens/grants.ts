/**
 * Grants: the tenant-facing snake_case names, LiveKit's camelCase `video` grant, and the grants a
 * tenant may never hold on the shared LiveKit deployment.
 */
import type { VideoGrant } from "../livekit/jwt";

export const PUBLISH_SOURCES = ["camera", "microphone", "screen_share", "screen_share_audio"] as const;
export type PublishSource = (typeof PUBLISH_SOURCES)[number];

/** What a tenant may ask for, as the API spells it. */
export interface TenantGrants {
  can_publish?: boolean;
  can_subscribe?: boolean;
  can_publish_data?: boolean;
  can_publish_sources?: PublishSource[];
  can_update_own_metadata?: boolean;
  hidden?: boolean;
  room_admin?: boolean;
}

/**
 * Grants that reach beyond one room on a shared deployment (LIVEKIT.md): `roomCreate` creates and
 * deletes ANY room, `roomList` lists all rooms, `roomRecord` drives egress for any room,
 * `ingressAdmin` any ingress; `agent` and `recorder` mark server-side participants that LiveKit
 * treats specially. Refused in both spellings so a tenant copying LiveKit's docs gets a clear answer.
 */
export const REFUSED_GRANTS: Record<string, string> = {
  room_create: "roomCreate",
  room_list: "roomList",
  room_record: "roomRecord",
  ingress_admin: "ingressAdmin",
  agent: "agent",
  recorder: "recorder",
};

/** Every spelling of a refused grant a request might use. */
export const REFUSED_GRANT_NAMES = [
  "room_create",
  "roomCreate",
  "room_list",
  "roomList",
  "room_record",
  "roomRecord",
  "ingress_admin",
  "ingressAdmin",
  "agent",
  "recorder",
] as const;
export type RefusedGrantName = (typeof REFUSED_GRANT_NAMES)[number];

/**
 * LiveKit's participant grant for `room` (already namespaced). Defaults are written out explicitly,
 * the same values LiveKit assumes when they are absent (`canPublish`/`canSubscribe` true,
 * `canPublishData` follows `canPublish`), so the token says exactly what the participant may do.
 */
export function toVideoGrant(namespacedRoom: string, grants: TenantGrants = {}): VideoGrant {
  const canPublish = grants.can_publish ?? true;
  const video: VideoGrant = {
    roomJoin: true,
    room: namespacedRoom,
    canPublish,
    canSubscribe: grants.can_subscribe ?? true,
    canPublishData: grants.can_publish_data ?? canPublish,
  };
  if (grants.can_publish_sources !== undefined) video.canPublishSources = [...grants.can_publish_sources];
  if (grants.can_update_own_metadata !== undefined) video.canUpdateOwnMetadata = grants.can_update_own_metadata;
  if (grants.hidden !== undefined) video.hidden = grants.hidden;
  if (grants.room_admin !== undefined) video.roomAdmin = grants.room_admin;
  return video;
}

/** The tenant's view of a token's grant, with LiveKit's defaults applied (what LiveKit will enforce). */
export function fromVideoGrant(video: VideoGrant) {
  const canPublish = video.canPublish ?? true;
  return {
    can_publish: canPublish,
    can_subscribe: video.canSubscribe ?? true,
    can_publish_data: video.canPublishData ?? canPublish,
    can_publish_sources: (video.canPublishSources ?? []) as string[],
    can_update_own_metadata: video.canUpdateOwnMetadata ?? false,
    hidden: video.hidden ?? false,
    room_admin: video.roomAdmin ?? false,
  };
}

/** The refused grants a decoded `video` claim holds (a token Pulse would never mint for a tenant). */
export function refusedGrantsIn(video: Record<string, unknown>): string[] {
  return Object.values(REFUSED_GRANTS).filter((name) => video[name] === true);
}
